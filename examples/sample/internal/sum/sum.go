// Package sum adds two numbers in assembly, so that building it runs the asm tool.
package sum

// Add returns a + b.
func Add(a, b int64) int64 { return add(a, b) }
