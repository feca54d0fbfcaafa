// goprog prints values that differ on every run - the time, a randomly
// seeded math/rand value, its pid, and the contents of a file it reads - so
// that a replay that reproduces them exactly proves the recording works for
// a static Go binary.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"time"
)

func main() {
	fmt.Println("now", time.Now().UnixNano())
	fmt.Println("rand", rand.Int63())
	fmt.Println("pid", os.Getpid())
	if len(os.Args) > 1 {
		b, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Println("read error:", err)
			os.Exit(3)
		}
		fmt.Printf("file %q\n", b)
	}
	start := time.Now()
	time.Sleep(time.Millisecond)
	fmt.Println("slept", time.Since(start) > 0)
	os.Exit(7)
}
