//go:build !linux

package main

// hugeHeap is unused where transparent huge pages are a Linux matter.
const hugeHeap = 0

// adviseHugePages does nothing outside Linux.
func adviseHugePages(int) (start, end uintptr, err error) { return 0, 0, nil }
