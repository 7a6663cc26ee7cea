package reactor

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"http_server/workers"
)

// sleepUntilWoken is the reactor's side of the hand-off: announce sleep,
// re-check, block on the eventfd. It reports whether the wait timed out
// although jobs were pending, which is a lost wake-up.
func sleepUntilWoken(q *completions, fds []unix.PollFd) (lost bool) {
	q.sleeping.Store(true)
	if q.pending() {
		q.sleeping.Store(false)
		return false
	}
	n, _ := unix.Poll(fds, 1000)
	q.sleeping.Store(false)
	if n > 0 {
		q.acknowledge()
		return false
	}
	return q.pending()
}

// No completion is ever left waiting while the reactor sleeps: producers
// race the sleeping flag from many goroutines.
func TestCompletionsNoLostWakeup(t *testing.T) {
	q, err := newCompletions()
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	const producers, each = 4, 2000
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				q.push(&job{})
				if i%64 == 0 {
					time.Sleep(10 * time.Microsecond)
				}
			}
		}()
	}
	fds := []unix.PollFd{{Fd: int32(q.efd), Events: unix.POLLIN}}
	got := 0
	for got < producers*each {
		jobs, _ := q.drain()
		got += len(jobs)
		if got == producers*each {
			break
		}
		if sleepUntilWoken(q, fds) {
			t.Fatalf("lost wake-up after %d of %d completions", got, producers*each)
		}
	}
	wg.Wait()
}

// BenchmarkHandoff measures one job's round trip: submit to the pond pool,
// run, push back through the completion queue, drain.
func BenchmarkHandoff(b *testing.B) {
	for _, size := range []int{1, 2, 8} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2", 8: "workers=8"}[size], func(b *testing.B) {
			q, err := newCompletions()
			if err != nil {
				b.Fatal(err)
			}
			defer q.close()
			pool := workers.NewPool(size, 1024)
			defer pool.Stop()
			j := &job{}
			task := func() { q.push(j) }
			fds := []unix.PollFd{{Fd: int32(q.efd), Events: unix.POLLIN}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for !pool.TrySubmit(task) {
				}
				for jobs, _ := q.drain(); len(jobs) == 0; jobs, _ = q.drain() {
					if !q.spin(yieldCap) {
						sleepUntilWoken(q, fds)
					}
				}
			}
		})
	}
}
