// dlvprog is debugged by delve in the tests: compute() receives a value
// that was random when recorded, and delve must print the same value.
package main

import (
	"fmt"
	"math/rand"
)

func compute(x int) int {
	y := x * 2
	return y + 1
}

func main() {
	r := rand.Intn(1000)
	fmt.Println("random", r)
	v := compute(r)
	fmt.Println("computed", v)
}
