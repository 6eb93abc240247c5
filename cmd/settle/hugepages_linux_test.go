package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// adviseHugePages marks the heap it reserved for transparent huge pages:
// every mapping of the range it returns carries the kernel's "hg" flag
// (MADV_HUGEPAGE) in /proc/self/smaps. With SETTLE_HUGEPAGES=off it
// advises nothing.
func TestAdviseHugePages(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages:", err)
	}
	start, end, err := adviseHugePages(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if n := end - start; n < 64<<20 || n > 96<<20 {
		t.Fatalf("advised %#x-%#x (%d MiB), want 64 MiB and what lies between its pieces", start, end, n>>20)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	covered := uintptr(0)
	var inRange bool
	var lo, hi uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			a, b, _ := strings.Cut(fields[0], "-")
			x, err1 := strconv.ParseUint(a, 16, 64)
			y, err2 := strconv.ParseUint(b, 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			lo, hi = uintptr(x), uintptr(y)
			inRange = lo < end && hi > start
			continue
		}
		if inRange && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(line+" ", " hg ") {
				t.Errorf("mapping %#x-%#x of the advised heap has %q, without hg", lo, hi, line)
			}
			covered += min(hi, end) - max(lo, start)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if covered != end-start {
		t.Errorf("smaps shows %d bytes of the advised %d", covered, end-start)
	}

	t.Setenv("SETTLE_HUGEPAGES", "off")
	if s, e, err := adviseHugePages(64 << 20); s != 0 || e != 0 || err != nil {
		t.Errorf("with SETTLE_HUGEPAGES=off: %#x-%#x, %v; want nothing advised", s, e, err)
	}
}

// The reservation never asks for more than a quarter of the machine's
// memory, which Linux might refuse and the Go runtime could not survive.
func TestHugePageReservation(t *testing.T) {
	for _, c := range []struct {
		want  int
		total uint64
		got   int
	}{
		{2 << 30, 24 << 30, 2 << 30},            // this project's machine: all of it
		{2 << 30, 4 << 30, 1 << 30},             // a quarter of 4 GiB
		{2 << 30, 1 << 30, 256 << 20},           // a small VM
		{2 << 30, (1 << 30) + 12345, 256 << 20}, // whole huge pages only
		{2 << 30, 6 << 20, 0},                   // less than one huge page: none
	} {
		if got := reservation(c.want, c.total); got != c.got {
			t.Errorf("reservation(%d, %d) = %d, want %d", c.want, c.total, got, c.got)
		}
	}
}

// The reservation is address space, not memory: it touches none of it,
// even where it takes pages the heap used and freed before (which the
// runtime clears before handing them out again; a reservation made of one
// slice was cleared whole).
//
// Under the race detector every allocation also writes its shadow memory
// (403 MiB more resident for this reservation), so there the test is
// skipped; .ci/run runs it without the detector beside the benchmarks.
func TestHugePageReservationTouchesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector writes the shadow of every allocation")
	}
	used := make([]byte, 64<<20)
	for i := 0; i < len(used); i += 4096 {
		used[i] = 1
	}
	runtime.KeepAlive(used)
	used = nil
	runtime.GC()
	before := residentBytes(t)
	if _, _, err := adviseHugePages(1 << 30); err != nil {
		t.Fatal(err)
	}
	if grown := residentBytes(t) - before; grown > 64<<20 {
		t.Errorf("reserving 1 GiB made %d MiB more resident, want next to none", grown>>20)
	}
}

// residentBytes is the process's resident memory (VmRSS).
func residentBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
