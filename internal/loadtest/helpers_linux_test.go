package loadtest

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func statBlocks(t *testing.T, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func fmtInts(v []int) string { return fmt.Sprint(v) }
