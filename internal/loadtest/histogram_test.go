package loadtest

import (
	"math"
	"testing"
	"time"
)

func within(t *testing.T, what string, got, want time.Duration, frac float64) {
	t.Helper()
	if math.Abs(float64(got-want)) > frac*float64(want) {
		t.Errorf("%s = %v, want %v (within %.2f%%)", what, got, want, 100*frac)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	// 1..10000 µs, once each: quantile q is q*10 ms.
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	if h.Count() != 10000 {
		t.Fatalf("Count = %d", h.Count())
	}
	within(t, "p50", h.Quantile(0.50), 5*time.Millisecond, 0.001)
	within(t, "p90", h.Quantile(0.90), 9*time.Millisecond, 0.001)
	within(t, "p99", h.Quantile(0.99), 9900*time.Microsecond, 0.001)
	within(t, "p99.9", h.Quantile(0.999), 9990*time.Microsecond, 0.001)
	within(t, "max", h.Max(), 10*time.Millisecond, 0.001)
	within(t, "min", h.Min(), time.Microsecond, 0.001)
	within(t, "mean", h.Mean(), 5000500*time.Nanosecond, 0.001)
}

func TestHistogramPrecisionAcrossRange(t *testing.T) {
	// Three significant digits hold from nanoseconds to tens of seconds.
	for _, d := range []time.Duration{7, 1234, 56789 * time.Nanosecond, 3 * time.Millisecond, 1234567 * time.Microsecond, 42 * time.Second} {
		h := NewHistogram()
		h.Record(d)
		within(t, d.String(), h.Quantile(0.5), d, 0.001)
	}
}

func TestHistogramClampsAndCountsOverflow(t *testing.T) {
	h := NewHistogram()
	h.Record(0)
	h.Record(-5)
	h.Record(2 * time.Minute)
	if h.Count() != 3 || h.Overflow() != 1 {
		t.Fatalf("Count %d Overflow %d, want 3 and 1", h.Count(), h.Overflow())
	}
	within(t, "max", h.Max(), time.Minute, 0.001)
	if h.Min() > 1 {
		t.Errorf("min = %v, want 1ns", h.Min())
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := 0; i < 900; i++ {
		a.Record(time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		b.Record(100 * time.Millisecond)
	}
	b.Record(time.Hour)
	a.Merge(b)
	if a.Count() != 1001 || a.Overflow() != 1 {
		t.Fatalf("after merge: Count %d Overflow %d", a.Count(), a.Overflow())
	}
	within(t, "p50", a.Quantile(0.5), time.Millisecond, 0.001)
	within(t, "p95", a.Quantile(0.95), 100*time.Millisecond, 0.001)
	a.Reset()
	if a.Count() != 0 || a.Overflow() != 0 || a.Quantile(0.99) != 0 || a.Mean() != 0 || a.Max() != 0 {
		t.Errorf("after Reset: count %d, p99 %v, mean %v", a.Count(), a.Quantile(0.99), a.Mean())
	}
}

func TestEmptyHistogram(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 || h.Min() != 0 || h.Count() != 0 {
		t.Error("empty histogram should report zeros")
	}
}
