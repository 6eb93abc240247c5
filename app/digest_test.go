package app

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// The buffered digest hashes exactly the stream of lengths, texts and
// numbers it always did, so a run's inputs digest stays comparable with
// the digests of runs stored before.
func TestDigestHashesTheSameStream(t *testing.T) {
	d := newDigest()
	want := sha256.New()
	var n [8]byte
	for i := range 20_000 { // several spills of the buffer
		s := strings.Repeat("x", i%97)
		d.str("r", s)
		d.num(int64(i), -int64(i))
		for _, v := range []string{"r", s} {
			binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
			want.Write(n[:])
			want.Write([]byte(v))
		}
		for _, v := range []int64{int64(i), -int64(i)} {
			binary.LittleEndian.PutUint64(n[:], uint64(v))
			want.Write(n[:])
		}
	}
	if got, w := d.sum(), hex.EncodeToString(want.Sum(nil)); got != w {
		t.Fatalf("digest %s, want %s", got, w)
	}
}

// A cloned digest, fed on another goroutine, sums as the digest fed in
// line would, and leaves the original as it was.
func TestDigestCloneSumsAsInLine(t *testing.T) {
	in, orig, before := newDigest(), newDigest(), newDigest()
	for _, d := range []*digest{in, orig, before} {
		d.str("records", strings.Repeat("r", 70_000))
		d.num(1, 2, 3)
	}
	feed := func(d *digest) {
		for i := range 10_000 {
			d.str("b", strings.Repeat("y", i%31))
			d.num(int64(i))
		}
	}
	feed(in)
	c := orig.clone()
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed(c)
	}()
	<-done
	if a, b := c.sum(), in.sum(); a != b {
		t.Fatalf("cloned %s, in line %s", a, b)
	}
	if a, b := orig.sum(), before.sum(); a != b {
		t.Fatalf("the original %s after cloning, %s before", a, b)
	}
}
