package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"unsafe"
)

// hugeHeap is how much of the Go heap adviseHugePages asks Linux to back
// with transparent huge pages: more than the largest peak heap measured
// (a first reconciliation of a million payments, about 1.3 GB). It is
// address space, not memory: nothing is touched until the heap grows into
// it.
const hugeHeap = 2 << 30

// adviseHugePages asks Linux to back size bytes of the Go heap (main
// passes hugeHeap) with transparent huge pages, where the machine allows them only on
// request (/sys/kernel/mm/transparent_hugepage/enabled is "madvise", the
// common default; with "always" they are used anyway, with "never" not
// at all). The Go runtime no longer asks for them itself.
//
// A reconciliation or a recording of a million payments touches over a
// gigabyte of fresh memory, and with 4 KiB pages each first touch is a page
// fault: 325,000 of them in a first reconciliation, 4.7–6.6 s of kernel
// time on this project's 2-core machine. In 2 MiB pages they are 31,000
// (BENCHMARKS.md, sixteenth round). The heap is reserved by allocating it
// once, so that the runtime maps it, then advised and freed: later
// allocations reuse that address space.
//
// SETTLE_HUGEPAGES=off leaves the heap alone (for a machine short of
// memory, where the kernel would compact memory to find huge pages). It
// returns the range advised, empty when none was.
//
// The reservation is at most a quarter of the machine's memory: Linux
// refuses to map far more than a machine has, and the Go runtime cannot
// survive a refused heap.
func adviseHugePages(size int) (start, end uintptr, err error) {
	if os.Getenv("SETTLE_HUGEPAGES") == "off" {
		return 0, 0, nil
	}
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0, 0, err
	}
	size = reservation(size, uint64(si.Totalram)*uint64(si.Unit))
	if size == 0 {
		return 0, 0, nil
	}
	// The reservation is made of huge-page-sized pieces rather than one
	// slice: the runtime clears a new allocation that takes pages the heap
	// used before, and one slice of 2 GiB that began on a few such pages
	// was cleared whole, every page of it touched (7–8 s and 2 GiB of
	// memory on this project's machine, in a quarter to a third of the
	// starts under GOGC=30: BENCHMARKS.md, twenty-fourth round). A piece
	// that takes used pages clears its own 2 MiB.
	pieces := make([][]byte, 0, size/hugePage)
	// No collection runs while the pieces are allocated: the heap doubling
	// as they come would start one each time (nine, 10 ms in all).
	pace := debug.SetGCPercent(-1)
	start = ^uintptr(0)
	for range size / hugePage {
		b := make([]byte, hugePage)
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		start, end = min(start, p), max(end, p+hugePage)
		pieces = append(pieces, b)
	}
	// The pieces lie side by side in the heap's address space, where the
	// runtime maps its arenas in order; anything between them is heap too.
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE); errno != 0 {
		start, end, err = 0, 0, errno
	}
	// Free them now (they are not used after this), so that the next
	// allocations take their pages.
	runtime.KeepAlive(pieces)
	debug.SetGCPercent(pace)
	runtime.GC()
	return start, end, err
}

// hugePage is the size of a transparent huge page on amd64 and arm64 (with
// 4 KiB base pages).
const hugePage = 2 << 20

// reservation is how much of want to reserve on a machine with total bytes
// of memory: at most a quarter of it, in whole 2 MiB huge pages, or nothing
// when that is less than one.
func reservation(want int, total uint64) int {
	n := min(uint64(want), total/4) / hugePage * hugePage
	return int(n)
}
