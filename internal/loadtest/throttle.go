package loadtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A disk read throttle for the server: a cgroup whose processes may read
// at most so many bytes per second from the disk under the fixtures. On a
// fast disk (or a VM's disk backed by the host's page cache) cold reads are
// so quick that waiting for them inline hardly shows; a throttled disk is a
// slow one, where it does.
//
// cgroup v1: a group of the blkio hierarchy, with
// blkio.throttle.read_bps_device "MAJ:MIN BYTES_PER_SECOND". cgroup v2: a
// child of the root, io enabled in the root's cgroup.subtree_control, with
// io.max "MAJ:MIN rbps=BYTES_PER_SECOND". The server joins the group right
// after it starts (its threads with it), and the group is removed at the
// end. Either needs root.

// ErrNoThrottle is the error of a throttle that cannot be set up here.
var ErrNoThrottle = errors.New("--disk-read-mbps needs root and a cgroup io controller (blkio or io.max)")

// Throttle is a cgroup that limits its processes' reads from one disk.
type Throttle struct {
	Version int            // 1 (blkio) or 2 (io)
	Dir     string         // the group
	Device  string         // MAJ:MIN the limit names
	BPS     int64          // bytes per second
	back    map[int]string // pid -> the cgroup.procs it came from
	env     throttleEnv
}

// throttleEnv is where a throttle looks: the real system, or a test's.
type throttleEnv struct {
	euid        int
	cgroupRoot  string // /sys/fs/cgroup
	sysDevBlock string // /sys/dev/block
	procRoot    string // /proc
	// rmdir removes a group: os.Remove (the kernel's control files go
	// with it); a test's stand-in tree has real files to remove.
	rmdir func(string) error
}

var realSystem = throttleEnv{euid: -1, cgroupRoot: "/sys/fs/cgroup", sysDevBlock: "/sys/dev/block", procRoot: "/proc", rmdir: os.Remove}

func (e throttleEnv) uid() int {
	if e.euid < 0 {
		return os.Geteuid()
	}
	return e.euid
}

// CheckThrottle reports at once whether a throttle can be set up here (root,
// a cgroup io controller), before anything else is done.
func CheckThrottle() error {
	_, err := realSystem.check()
	return err
}

func (e throttleEnv) check() (int, error) {
	if uid := e.uid(); uid != 0 {
		return 0, fmt.Errorf("%w: running as uid %d", ErrNoThrottle, uid)
	}
	v, err := cgroupVersion(e.cgroupRoot)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoThrottle, err)
	}
	return v, nil
}

// cgroupVersion chooses the controller under root: 1 when the blkio
// hierarchy of cgroup v1 is mounted with its throttle (preferred: on a
// hybrid system the v2 hierarchy has no io controller), 2 when root is a
// cgroup v2 hierarchy with the io controller.
func cgroupVersion(root string) (int, error) {
	if _, err := os.Stat(filepath.Join(root, "blkio", "blkio.throttle.read_bps_device")); err == nil {
		return 1, nil
	}
	b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return 0, fmt.Errorf("no blkio hierarchy with a throttle under %s, and no cgroup v2 there", root)
	}
	for _, c := range strings.Fields(string(b)) {
		if c == "io" {
			return 2, nil
		}
	}
	return 0, fmt.Errorf("cgroup v2 at %s has no io controller (it has: %s)", root, strings.TrimSpace(string(b)))
}

// throttleFile is the file of the group that holds the limit.
func throttleFile(version int) string {
	if version == 1 {
		return "blkio.throttle.read_bps_device"
	}
	return "io.max"
}

// throttleLine is what is written to throttleFile.
func throttleLine(version int, dev string, bps int64) string {
	if version == 1 {
		return fmt.Sprintf("%s %d", dev, bps)
	}
	return fmt.Sprintf("%s rbps=%d", dev, bps)
}

// groupDir is the directory of the group named name.
func groupDir(version int, root, name string) string {
	if version == 1 {
		return filepath.Join(root, "blkio", name)
	}
	return filepath.Join(root, name)
}

// MBpsToBPS converts the flag's MB/s (10^6 bytes) to bytes per second.
func MBpsToBPS(mbps int) int64 { return int64(mbps) * 1000 * 1000 }

// parseDevNum reads MAJ:MIN, as in /sys/dev/block/*/dev.
func parseDevNum(s string) (maj, min uint32, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), ":")
	x, err1 := strconv.ParseUint(a, 10, 32)
	y, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad device number %q", s)
	}
	return uint32(x), uint32(y), nil
}

// deviceOf is the MAJ:MIN of the file system holding path; an error unless
// it is a block device (tmpfs, overlayfs and btrfs have none: their
// st_dev is a number of their own).
func (e throttleEnv) deviceOf(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", err
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	if _, err := os.Stat(filepath.Join(e.sysDevBlock, dev)); err != nil {
		return "", fmt.Errorf("%s is on device %s, which is not a block device (tmpfs, overlay, btrfs?): use --fixtures on a disk", path, dev)
	}
	return dev, nil
}

// parentDisk is the whole disk of partition dev, from sysfs: the
// partition's directory /sys/dev/block/MAJ:MIN links into its disk's.
func parentDisk(sysDevBlock, dev string) (string, error) {
	part, err := filepath.EvalSymlinks(filepath.Join(sysDevBlock, dev))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(part, "partition")); err != nil {
		return "", fmt.Errorf("%s is not a partition", dev)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(part), "dev"))
	if err != nil {
		return "", err
	}
	maj, min, err := parseDevNum(string(b))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", maj, min), nil
}

// rejected: the kernel does not take the limit for this device (v1 takes
// whole disks only).
func rejected(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENODEV)
}

// procCgroup is the group path of a process for the controller of the
// version, from the contents of /proc/PID/cgroup.
func procCgroup(content string, version int) (string, error) {
	for _, line := range strings.Split(content, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if version == 2 && parts[0] == "0" && parts[1] == "" {
			return parts[2], nil
		}
		if version == 1 {
			for _, c := range strings.Split(parts[1], ",") {
				if c == "blkio" {
					return parts[2], nil
				}
			}
		}
	}
	return "", fmt.Errorf("no %s entry", map[int]string{1: "blkio", 2: "cgroup v2"}[version])
}

// NewThrottle creates a group that lets its processes read at most mbps
// MB/s (10^6 bytes) from the disk holding dir. Close removes it.
func NewThrottle(dir string, mbps int) (*Throttle, error) {
	return realSystem.newThrottle(dir, mbps, fmt.Sprintf("loadtest-%d", os.Getpid()))
}

func (e throttleEnv) newThrottle(dir string, mbps int, name string) (*Throttle, error) {
	if mbps <= 0 {
		return nil, fmt.Errorf("disk read limit %d MB/s: must be positive", mbps)
	}
	v, err := e.check()
	if err != nil {
		return nil, err
	}
	dev, err := e.deviceOf(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoThrottle, err)
	}
	t := &Throttle{Version: v, Dir: groupDir(v, e.cgroupRoot, name), BPS: MBpsToBPS(mbps), back: map[int]string{}, env: e}
	fail := func(err error) (*Throttle, error) {
		_ = e.rmdir(t.Dir)
		return nil, fmt.Errorf("%w: %v", ErrNoThrottle, err)
	}
	if v == 2 {
		if err := writeControl(filepath.Join(e.cgroupRoot, "cgroup.subtree_control"), "+io"); err != nil {
			return nil, fmt.Errorf("%w: enabling io for child groups: %v", ErrNoThrottle, err)
		}
	}
	if err := os.Mkdir(t.Dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: %v", ErrNoThrottle, err)
	}
	limit := filepath.Join(t.Dir, throttleFile(v))
	t.Device = dev
	err = writeControl(limit, throttleLine(v, dev, t.BPS))
	if err != nil && rejected(err) {
		// A partition: name its disk instead.
		if parent, perr := parentDisk(e.sysDevBlock, dev); perr == nil && parent != dev {
			t.Device = parent
			err = writeControl(limit, throttleLine(v, parent, t.BPS))
		}
	}
	if err != nil {
		return fail(fmt.Errorf("writing %q to %s: %v", throttleLine(v, t.Device, t.BPS), limit, err))
	}
	return t, nil
}

func (t *Throttle) String() string {
	kind := "blkio (cgroup v1)"
	if t.Version == 2 {
		kind = "io.max (cgroup v2)"
	}
	return fmt.Sprintf("reads from %s limited to %d MB/s: %s group %s", t.Device, t.BPS/1e6, kind, t.Dir)
}

// Add moves process pid, and every thread of it, into the group; the
// processes it starts from then on are born there. Close moves it back if
// it is still running.
func (t *Throttle) Add(pid int) error {
	if b, err := os.ReadFile(filepath.Join(t.env.procRoot, strconv.Itoa(pid), "cgroup")); err == nil {
		if from, err := procCgroup(string(b), t.Version); err == nil {
			t.back[pid] = filepath.Join(filepath.Dir(t.Dir), from, "cgroup.procs")
		}
	}
	if err := writeControl(filepath.Join(t.Dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("moving process %d into %s: %w", pid, t.Dir, err)
	}
	return nil
}

// Close moves the processes still in the group back where they came from
// (a server that 'run' throttled goes on running), and removes the group.
func (t *Throttle) Close() error {
	if b, err := os.ReadFile(filepath.Join(t.Dir, "cgroup.procs")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			to, ok := t.back[pid]
			if !ok {
				to = filepath.Join(filepath.Dir(t.Dir), "cgroup.procs")
			}
			_ = writeControl(to, f)
		}
	}
	// A process that has just exited may still be leaving the group.
	var err error
	for i := 0; i < 50; i++ {
		err = t.env.rmdir(t.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", t.Dir, err)
}

// writeControl writes one value to a cgroup control file. (Creating is
// for a test's stand-in tree; the kernel's files always exist.)
func writeControl(path, value string) error {
	return os.WriteFile(path, []byte(value), 0o644)
}
