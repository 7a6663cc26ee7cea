package loadtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCgroupVersion(t *testing.T) {
	for name, c := range map[string]struct {
		files map[string]string
		want  int
		err   string
	}{
		"v1 blkio": {map[string]string{"blkio/blkio.throttle.read_bps_device": ""}, 1, ""},
		// Hybrid: blkio in v1, an empty v2 hierarchy: v1 wins.
		"hybrid":   {map[string]string{"blkio/blkio.throttle.read_bps_device": "", "cgroup.controllers": ""}, 1, ""},
		"v2":       {map[string]string{"cgroup.controllers": "cpuset cpu io memory pids\n"}, 2, ""},
		"v2 no io": {map[string]string{"cgroup.controllers": "cpu memory\n"}, 0, "no io controller"},
		"none":     {map[string]string{"cpu/tasks": ""}, 0, "no blkio hierarchy"},
	} {
		root := t.TempDir()
		writeTree(t, root, c.files)
		v, err := cgroupVersion(root)
		if v != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: version %d, %v; want %d, %q", name, v, err, c.want, c.err)
		}
	}
}

func TestThrottleContents(t *testing.T) {
	if got := throttleLine(1, "254:0", MBpsToBPS(150)); got != "254:0 150000000" {
		t.Errorf("v1 line %q", got)
	}
	if got := throttleLine(2, "8:16", MBpsToBPS(5)); got != "8:16 rbps=5000000" {
		t.Errorf("v2 line %q", got)
	}
	if throttleFile(1) != "blkio.throttle.read_bps_device" || throttleFile(2) != "io.max" {
		t.Error("throttle files")
	}
	if groupDir(1, "/sys/fs/cgroup", "lt") != "/sys/fs/cgroup/blkio/lt" || groupDir(2, "/sys/fs/cgroup", "lt") != "/sys/fs/cgroup/lt" {
		t.Error("group dirs")
	}
	if maj, min, err := parseDevNum("254:16\n"); err != nil || maj != 254 || min != 16 {
		t.Errorf("parseDevNum: %d %d %v", maj, min, err)
	}
	for _, bad := range []string{"", "254", "a:1", "1:", "1:2:3"} {
		if _, _, err := parseDevNum(bad); err == nil {
			t.Errorf("parseDevNum(%q) accepted", bad)
		}
	}
	if !rejected(fmt.Errorf("write: %w", unix.EINVAL)) || !rejected(&os.PathError{Err: unix.ENODEV}) || rejected(unix.EACCES) {
		t.Error("rejected")
	}
	v1 := "12:pids:/user.slice\n7:blkio,cpu:/x/y\n1:name=systemd:/init.scope\n0::/\n"
	if g, err := procCgroup(v1, 1); err != nil || g != "/x/y" {
		t.Errorf("v1 procCgroup %q %v", g, err)
	}
	if g, err := procCgroup("0::/system.slice/a.service\n", 2); err != nil || g != "/system.slice/a.service" {
		t.Errorf("v2 procCgroup %q %v", g, err)
	}
	if _, err := procCgroup("4:memory:/\n", 1); err == nil {
		t.Error("no blkio line accepted")
	}
}

// A partition names its whole disk, found through sysfs's links.
func TestParentDisk(t *testing.T) {
	sys := t.TempDir()
	writeTree(t, sys, map[string]string{
		"devices/virtual/block/vda/dev":            "254:0\n",
		"devices/virtual/block/vda/vda1/dev":       "254:1\n",
		"devices/virtual/block/vda/vda1/partition": "1\n",
	})
	devBlock := filepath.Join(sys, "dev", "block")
	os.MkdirAll(devBlock, 0o755)
	os.Symlink("../../devices/virtual/block/vda", filepath.Join(devBlock, "254:0"))
	os.Symlink("../../devices/virtual/block/vda/vda1", filepath.Join(devBlock, "254:1"))
	if p, err := parentDisk(devBlock, "254:1"); err != nil || p != "254:0" {
		t.Errorf("parent of 254:1: %q %v", p, err)
	}
	if _, err := parentDisk(devBlock, "254:0"); err == nil {
		t.Error("a whole disk has a parent")
	}
	if _, err := parentDisk(devBlock, "9:9"); err == nil {
		t.Error("an unknown device has a parent")
	}
}

// What a user who is not root gets: one line that says what is needed.
func TestThrottleNeedsRoot(t *testing.T) {
	e := throttleEnv{euid: 1000, cgroupRoot: t.TempDir()}
	_, err := e.newThrottle(t.TempDir(), 150, "x")
	if !errors.Is(err, ErrNoThrottle) || err.Error() != "--disk-read-mbps needs root and a cgroup io controller (blkio or io.max): running as uid 1000" {
		t.Errorf("%v", err)
	}
	e.euid = 0 // root, but no controller
	if _, err := e.newThrottle(t.TempDir(), 150, "x"); !errors.Is(err, ErrNoThrottle) || !strings.Contains(err.Error(), "no blkio hierarchy") {
		t.Errorf("%v", err)
	}
	if _, err := e.newThrottle(t.TempDir(), 0, "x"); err == nil {
		t.Error("0 MB/s accepted")
	}
}

// The whole sequence on a stand-in tree: the group is made, the limit
// written for the fixtures' device, the process added (and where it came
// from remembered), then moved back and the group removed.
func TestThrottleOnStandInTree(t *testing.T) {
	fixtures := t.TempDir()
	var st unix.Stat_t
	if err := unix.Stat(fixtures, &st); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	for _, v := range []int{1, 2} {
		cg, sys, proc := t.TempDir(), t.TempDir(), t.TempDir()
		files := map[string]string{"blkio/blkio.throttle.read_bps_device": ""}
		if v == 2 {
			files = map[string]string{"cgroup.controllers": "cpu io memory", "cgroup.subtree_control": ""}
		}
		writeTree(t, cg, files)
		os.Mkdir(filepath.Join(sys, dev), 0o755)
		writeTree(t, proc, map[string]string{"4242/cgroup": "7:blkio:/\n0::/\n"})
		e := throttleEnv{euid: 0, cgroupRoot: cg, sysDevBlock: sys, procRoot: proc, rmdir: os.RemoveAll}
		th, err := e.newThrottle(fixtures, 150, "loadtest-test")
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if th.Version != v || th.Device != dev || th.Dir != groupDir(v, cg, "loadtest-test") {
			t.Errorf("v%d: %+v", v, th)
		}
		if got, want := readString(t, filepath.Join(th.Dir, throttleFile(v))), throttleLine(v, dev, 150e6); got != want {
			t.Errorf("v%d: limit %q, want %q", v, got, want)
		}
		if v == 2 && readString(t, filepath.Join(cg, "cgroup.subtree_control")) != "+io" {
			t.Error("v2: io not enabled for the root's children")
		}
		if !strings.Contains(th.String(), "limited to 150 MB/s") {
			t.Errorf("String: %s", th)
		}
		if err := th.Add(4242); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, filepath.Join(th.Dir, "cgroup.procs")); got != "4242" {
			t.Errorf("v%d: cgroup.procs %q", v, got)
		}
		if err := th.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, filepath.Join(filepath.Dir(th.Dir), "cgroup.procs")); got != "4242" {
			t.Errorf("v%d: not moved back: %q", v, got)
		}
		if _, err := os.Stat(th.Dir); !os.IsNotExist(err) {
			t.Errorf("v%d: group left behind: %v", v, err)
		}
	}
	// Fixtures on something that is not a block device.
	e := throttleEnv{euid: 0, cgroupRoot: t.TempDir(), sysDevBlock: t.TempDir(), rmdir: os.RemoveAll}
	writeTree(t, e.cgroupRoot, map[string]string{"blkio/blkio.throttle.read_bps_device": ""})
	if _, err := e.newThrottle(fixtures, 150, "x"); err == nil || !strings.Contains(err.Error(), "not a block device") {
		t.Errorf("no block device: %v", err)
	}
}

// The real thing, where it can run (root, a cgroup io controller, the
// temporary directory on a disk): a process joins the group, its limit is
// what the kernel reports, and after Close the process is back where it
// was and the group is gone.
func TestThrottleReal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := cgroupVersion(realSystem.cgroupRoot); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	if _, err := realSystem.deviceOf(dir); err != nil {
		t.Skip(err)
	}
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	before := readString(t, fmt.Sprintf("/proc/%d/cgroup", sleep.Process.Pid))

	th, err := NewThrottle(dir, 150)
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			th.Close()
		}
	}()
	limit := readString(t, filepath.Join(th.Dir, throttleFile(th.Version)))
	want := th.Device + " 150000000" // v1 reads back as written
	if th.Version == 2 {
		want = th.Device + " rbps=150000000"
	}
	if !strings.Contains(limit, want) {
		t.Errorf("%s holds %q, want %q", throttleFile(th.Version), limit, want)
	}
	if err := th.Add(sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(th.Dir)
	if in := readString(t, fmt.Sprintf("/proc/%d/cgroup", sleep.Process.Pid)); !strings.Contains(in, "/"+name+"\n") {
		t.Errorf("process not in %s:\n%s", name, in)
	}
	if procs := readString(t, filepath.Join(th.Dir, "cgroup.procs")); strings.TrimSpace(procs) != strconv.Itoa(sleep.Process.Pid) {
		t.Errorf("cgroup.procs %q", procs)
	}
	removed = true
	if err := th.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(th.Dir); !os.IsNotExist(err) {
		t.Errorf("group %s left behind: %v", th.Dir, err)
	}
	if after := readString(t, fmt.Sprintf("/proc/%d/cgroup", sleep.Process.Pid)); after != before {
		t.Errorf("process not moved back:\nbefore %s\nafter %s", before, after)
	}
}
