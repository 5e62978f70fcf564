// Command sample is the program gohook's README and tests build: three packages, one of them with assembly.
package main

import (
	"fmt"
	"os"

	"example.com/sample/internal/greet"
	"example.com/sample/internal/sum"
)

func main() {
	name := "gohook"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greet.Hello(name))
	fmt.Println("2 + 40 =", sum.Add(2, 40))
}
