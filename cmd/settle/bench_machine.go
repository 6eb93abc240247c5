package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"time"
)

// calibrate prints the machine's speeds, measured by a child process
// (settle bench --calibrate), as "Machine <when>: …".
func (b *bencher) calibrate(ctx context.Context, when string) {
	r, err := b.child(ctx, "bench", "--calibrate", "--dir", b.dir)
	line := strings.TrimSpace(r.out)
	if err != nil {
		line = "not measured: " + err.Error()
	}
	fmt.Fprintf(b.a.stdout, "Machine %s: %s\n", when, line)
}

// calibrate measures, in a second or two, the three speeds of the machine
// that moved the whole-process figures from one hour to the next on the
// same build (BENCHMARKS.md, tenth round: recording the same million
// payments took 77 s at one hour and 120 s at another): one CPU hashing,
// the first touch of fresh memory (each page a fault, which costs far more
// in some virtual machines than on bare metal), and writing a file to
// dir through to its disk. The bench prints it before and after its
// steps, beside the figures of the run.
func calibrate(dir string) string {
	const hashSize, touchSize, writeSize = 64 << 20, 256 << 20, 256 << 20
	buf := make([]byte, hashSize)
	for i := range buf {
		buf[i] = byte(i)
	}
	start := time.Now()
	sum := sha256.Sum256(buf)
	hashRate := float64(hashSize) / time.Since(start).Seconds()

	start = time.Now()
	fresh := make([]byte, touchSize)
	for i := 0; i < len(fresh); i += 4096 {
		fresh[i] = sum[i%len(sum)]
	}
	touchPerGiB := time.Since(start) * (1 << 30) / touchSize

	write := "file writes not measured"
	if rate, err := writeRate(dir, buf, writeSize); err == nil {
		write = fmt.Sprintf("file writes %.0f MB/s (synced)", rate/1e6)
	}
	return fmt.Sprintf("SHA-256 %.0f MB/s on one CPU, first touch of fresh memory %v a GiB, %s",
		hashRate/1e6, touchPerGiB.Round(time.Millisecond), write)
}

// writeRate writes size bytes (buf over and over) to a new file in dir,
// syncs it and removes it, and returns the bytes a second.
func writeRate(dir string, buf []byte, size int) (float64, error) {
	f, err := os.CreateTemp(dir, "calibrate-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	start := time.Now()
	for n := 0; n < size; n += len(buf) {
		if _, err := f.Write(buf[:min(len(buf), size-n)]); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(size) / time.Since(start).Seconds(), nil
}
