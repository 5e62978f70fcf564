//go:build !amd64 && !arm64

package sum

func add(a, b int64) int64 { return a + b }
