package loadtest

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds from 1 ns to a minute with three
// significant digits: any recorded value is within 0.1% of the true one. One
// histogram of that shape takes about 220 KiB, which is why the generator
// shares a bounded number of them between connections instead of giving one
// to each.
const (
	histLowest  = 1
	histHighest = int64(time.Minute)
	histDigits  = 3
)

// Histogram is a latency histogram: an HDR histogram of durations with a
// fixed range and precision. It is not safe for concurrent use.
type Histogram struct {
	h        *hdrhistogram.Histogram
	overflow int64
}

// NewHistogram returns an empty histogram for latencies of 1 ns to 1 minute.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// Record adds one latency. Values outside the range are clamped to it (and
// counted by Overflow), so a stalled request still weighs on the tail.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	switch {
	case v < histLowest:
		v = histLowest
	case v > histHighest:
		v = histHighest
		h.overflow++
	}
	_ = h.h.RecordValue(v) // cannot fail: v is in range
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
	h.overflow += o.overflow
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Overflow is the number of latencies longer than a minute (recorded as one
// minute).
func (h *Histogram) Overflow() int64 { return h.overflow }

// Quantile returns the latency at quantile q (0.5 is the median, 0.99 the
// 99th percentile); 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtQuantile(q * 100))
}

// Mean is the mean latency; 0 for an empty histogram.
func (h *Histogram) Mean() time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Mean())
}

// Max is the largest recorded latency (to the histogram's precision).
func (h *Histogram) Max() time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Max())
}

// Min is the smallest recorded latency (to the histogram's precision).
func (h *Histogram) Min() time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.Min())
}

// Reset empties the histogram.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.overflow = 0
}
