package sqlite

// occurrences numbers the repeats of record ids within one import, by a
// 64-bit hash of each id. It is a set of hashes, open addressed in a flat
// slice, with counts kept aside for the few ids that repeat: a map of a
// million counters took some 200 ns an id, mostly waiting on memory, and
// this about a third of that, in half the memory.
type occurrences struct {
	slots   []uint64 // hashes, 0 for an empty slot; at most half full
	n       int
	repeats map[uint64]int // hash → occurrences after the first
}

// add counts one more record with hash h and returns how many there were
// so far, this one included.
func (o *occurrences) add(h uint64) int {
	if h == 0 {
		h = 1 // 0 marks an empty slot: 0 and 1 share a slot, as any two hashes may
	}
	if 2*o.n >= len(o.slots) {
		o.grow()
	}
	mask := uint64(len(o.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch o.slots[i] {
		case 0:
			o.slots[i] = h
			o.n++
			return 1
		case h:
			if o.repeats == nil {
				o.repeats = map[uint64]int{}
			}
			o.repeats[h]++
			return 1 + o.repeats[h]
		}
	}
}

// grow doubles the slots (from 64 Ki) and places the hashes again.
func (o *occurrences) grow() {
	old := o.slots
	o.slots = make([]uint64, max(1<<16, 2*len(old)))
	mask := uint64(len(o.slots) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for o.slots[i] != 0 {
			i = (i + 1) & mask
		}
		o.slots[i] = h
	}
}
