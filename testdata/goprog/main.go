// goprog prints values that differ on every run - the time, a randomly
// seeded math/rand value, its pid, and the contents of a file it reads - so
// that a replay that reproduces them exactly proves the recording works for
// a static Go binary.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// goroutines runs workers that exchange values over channels, contend on a
// mutex and allocate enough to make the garbage collector run.
func goroutines(rounds int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	ch := make(chan []byte, 16)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				b := make([]byte, 1024+w)
				ch <- b
				mu.Lock()
				total += len(<-ch)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("goroutines done", total, ms.NumGC > 0)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-goroutines" {
		rounds := 2000
		if len(os.Args) > 2 {
			rounds, _ = strconv.Atoi(os.Args[2])
		}
		goroutines(rounds)
		os.Args = os.Args[:1]
	}
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
