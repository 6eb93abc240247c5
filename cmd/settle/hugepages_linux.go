package main

import (
	"os"
	"runtime"
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
	b := make([]byte, size)
	start = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end = start + uintptr(size)
	err = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	if err != nil {
		start, end = 0, 0
	}
	runtime.KeepAlive(b)
	// Free it now (b is not used again), so that the next allocations
	// take its pages.
	runtime.GC()
	return start, end, err
}

// reservation is how much of want to reserve on a machine with total bytes
// of memory: at most a quarter of it, in whole 2 MiB huge pages, or nothing
// when that is less than one.
func reservation(want int, total uint64) int {
	const huge = 2 << 20
	n := min(uint64(want), total/4) / huge * huge
	return int(n)
}
