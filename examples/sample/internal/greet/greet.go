// Package greet builds the greeting the sample prints.
package greet

import "strings"

// Hello returns a greeting for name.
func Hello(name string) string {
	return "hello, " + strings.TrimSpace(name)
}
