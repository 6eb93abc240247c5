package reconcile

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// side is one side of a match, seen through indices so that the engine
// never copies the caller's records: per item it keeps a few bytes of state.
type side interface {
	Len() int
	ID(i int) string
	Ref(i int) string // the provider's source reference, the join key of pass 2
	Kind(i int) uint8 // canonical kind code, part of the join key
	Currency(i int) string
	Amount(i int) int64 // the amount the heuristic pass joins on
	Time(i int) time.Time
	// Compare is a total order on the items' contents (time, id, then the
	// rest), used wherever a choice must not depend on input order.
	Compare(i, j int) int
}

// Item states.
const (
	free   uint8 = iota // not yet paired
	paired              // paired with an item on the other side
	dup                 // a duplicate provider record
	out                 // out of play: folded into another record, out of scope, or linked to a record outside this run
)

// How a pair was found.
const (
	viaLink uint8 = iota + 1
	viaRef
	viaHeuristic
)

type refKey struct {
	ref  string
	kind uint8
}

// matcher runs the passes shared by both grains.
type matcher struct {
	p, l   side
	opt    Options
	pState []uint8
	lState []uint8
	pHow   []uint8
	pMate  []int32 // ledger index of a pair
	lMate  []int32 // provider index of a pair

	dupOf     map[int32]int32 // duplicate id → the provider record kept
	pByID     *index          // provider ids, each to the record kept (made by dedupe)
	dupLedger map[int32]int32 // surplus claimant → the ledger item claimed
}

func newMatcher(p, l side, opt Options) *matcher {
	m := &matcher{p: p, l: l, opt: opt,
		pState: make([]uint8, p.Len()), lState: make([]uint8, l.Len()),
		pHow: make([]uint8, p.Len()), pMate: make([]int32, p.Len()), lMate: make([]int32, l.Len()),
		dupOf: map[int32]int32{}, dupLedger: map[int32]int32{}}
	for i := range m.pMate {
		m.pMate[i] = -1
	}
	for j := range m.lMate {
		m.lMate[j] = -1
	}
	return m
}

// dedupe marks provider records whose id was already seen. Of two records
// with one id, the one first in content order is kept, so the choice does
// not depend on input order. It keeps the index of ids, each to its kept
// record, for linkPass.
func (m *matcher) dedupe() {
	x := newIndex(m.p.Len())
	for i := range m.p.Len() {
		id := m.p.ID(i)
		h := x.hash(id, 0)
		pos, found := x.find(h, func(k int32) bool { return m.p.ID(int(k)) == id })
		if !found {
			x.set(pos, h, int32(i))
			continue
		}
		keep, drop := x.at(pos), int32(i)
		if m.p.Compare(i, int(keep)) < 0 {
			keep, drop = drop, keep
			x.set(pos, h, keep)
		}
		m.pState[drop] = dup
		m.dupOf[drop] = keep
	}
	// A record dropped earlier may point at one dropped later.
	for d, k := range m.dupOf {
		id := m.p.ID(int(k))
		pos, _ := x.find(x.hash(id, 0), func(k int32) bool { return m.p.ID(int(k)) == id })
		m.dupOf[d] = x.at(pos)
	}
	m.pByID = x
}

// linkPass pairs provider records with the ledger items earlier runs linked
// them to: links (a map) and list (pairs, each provider id at most once).
// Two records linked to one ledger item: the first in content order keeps
// it. A ledger item linked to a record absent from this run is put out of
// play rather than reported missing: it was matched before.
func (m *matcher) linkPass(links map[string]string, list []Link) {
	if len(links) == 0 && len(list) == 0 {
		return
	}
	byID := newIndex(m.l.Len())
	for j := range m.l.Len() {
		id := m.l.ID(j)
		h := byID.hash(id, 0)
		if pos, found := byID.find(h, func(k int32) bool { return m.l.ID(int(k)) == id }); !found {
			byID.set(pos, h, int32(j))
		}
	}
	lookup := func(x *index, s side, id string) (int32, bool) {
		pos, found := x.find(x.hash(id, 0), func(k int32) bool { return s.ID(int(k)) == id })
		if !found {
			return -1, false
		}
		return x.at(pos), true
	}
	// link pairs the kept record of provider id pid with ledger id lid,
	// unless a record first in content order has it.
	link := func(pid, lid string) {
		j, ok := lookup(byID, m.l, lid)
		if !ok {
			return
		}
		if m.lState[j] == free {
			m.lState[j] = out // until a record in play takes it below
		}
		i, ok := lookup(m.pByID, m.p, pid)
		if !ok || m.pState[i] != free {
			return
		}
		if k := m.lMate[j]; k >= 0 {
			if m.p.Compare(int(i), int(k)) > 0 {
				return
			}
			m.pMate[k] = -1
		}
		m.lMate[j], m.pMate[i] = i, j
	}
	for pid, lid := range links {
		link(pid, lid)
	}
	for _, l := range list {
		link(l.ProviderID, l.LedgerID)
	}
	for i := range m.p.Len() {
		if j := m.pMate[i]; j >= 0 && m.pState[i] == free {
			m.pState[i], m.lState[j], m.pHow[i] = paired, paired, viaLink
		}
	}
}

// refPass joins free provider records to free ledger items on (reference,
// kind): a hash index of the ledger side, probed once per provider record.
// A key with one item on each side pairs at once; a key with several on
// either side is settled by pairGroup after the probe.
func (m *matcher) refPass(pref func(i int) string) {
	x := newIndex(m.l.Len())
	next := make([]int32, m.l.Len())
	for j := range m.l.Len() {
		r := m.l.Ref(j)
		if m.lState[j] != free || r == "" {
			continue
		}
		kind := m.l.Kind(j)
		h := x.hash(r, kind)
		pos, found := x.find(h, func(k int32) bool { return m.l.Kind(int(k)) == kind && m.l.Ref(int(k)) == r })
		next[j] = -1
		if found {
			next[j] = x.at(pos)
		}
		x.set(pos, h, int32(j))
	}
	headOf := func(k refKey) (int32, bool) {
		pos, found := x.find(x.hash(k.ref, k.kind), func(j int32) bool { return m.l.Kind(int(j)) == k.kind && m.l.Ref(int(j)) == k.ref })
		if !found {
			return -1, false
		}
		return x.at(pos), true
	}
	var contested map[refKey]bool
	var tentative []int32
	for i := range m.p.Len() {
		r := pref(i)
		if m.pState[i] != free || r == "" {
			continue
		}
		k := refKey{r, m.p.Kind(i)}
		h, ok := headOf(k)
		if !ok {
			continue
		}
		if next[h] == -1 && m.lMate[h] == -1 {
			m.lMate[h], m.pMate[i] = int32(i), h
			tentative = append(tentative, int32(i))
			continue
		}
		if contested == nil {
			contested = map[refKey]bool{}
		}
		contested[k] = true
	}
	if contested != nil {
		// Undo the tentative pairs of contested keys and settle each group.
		groups := map[refKey][]int32{}
		for i := range m.p.Len() {
			r := pref(i)
			if m.pState[i] != free || r == "" {
				continue
			}
			k := refKey{r, m.p.Kind(i)}
			if !contested[k] {
				continue
			}
			if j := m.pMate[i]; j >= 0 {
				m.pMate[i], m.lMate[j] = -1, -1
			}
			groups[k] = append(groups[k], int32(i))
		}
		for k, ps := range groups {
			var ls []int32
			h, _ := headOf(k)
			for j := h; j != -1; j = next[j] {
				ls = append(ls, j)
			}
			m.pairGroup(ps, ls)
			for _, i := range ps {
				if m.pMate[i] >= 0 {
					tentative = append(tentative, i)
				}
			}
		}
	}
	for _, i := range tentative {
		if j := m.pMate[i]; j >= 0 && m.pState[i] == free {
			m.pState[i], m.lState[j], m.pHow[i] = paired, paired, viaRef
		}
	}
}

// pairGroup pairs the provider records ps and ledger items ls that share a
// key: first those with equal currency and amount, then the rest in time
// order. Provider records left over claim a ledger item beyond its count
// and are duplicates; ledger items left over stay free.
func (m *matcher) pairGroup(ps, ls []int32) {
	slices.SortFunc(ps, func(a, b int32) int { return m.p.Compare(int(a), int(b)) })
	slices.SortFunc(ls, func(a, b int32) int { return m.l.Compare(int(a), int(b)) })
	type amt struct {
		cur string
		v   int64
	}
	byAmt := map[amt][]int32{}
	for _, j := range ls {
		k := amt{m.l.Currency(int(j)), m.l.Amount(int(j))}
		byAmt[k] = append(byAmt[k], j)
	}
	for _, i := range ps {
		k := amt{m.p.Currency(int(i)), m.p.Amount(int(i))}
		if q := byAmt[k]; len(q) > 0 {
			m.pMate[i], m.lMate[q[0]] = q[0], i
			byAmt[k] = q[1:]
		}
	}
	rest := ls
	for _, i := range ps {
		if m.pMate[i] >= 0 {
			continue
		}
		for len(rest) > 0 && m.lMate[rest[0]] >= 0 {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			m.pState[i] = dup
			m.dupLedger[i] = ls[0]
			continue
		}
		m.pMate[i], m.lMate[rest[0]] = rest[0], i
		rest = rest[1:]
	}
}

// heuristicPass pairs what is left on (currency, kind, amount) when exactly
// one candidate on each side lies within the window of the other. Both
// sides are sorted on the key and time, so each probe is a binary search.
func (m *matcher) heuristicPass() {
	type ent struct {
		cur  string
		amt  int64
		t    int64
		kind uint8
		idx  int32
	}
	collect := func(s side, state []uint8) []ent {
		var es []ent
		for i := range s.Len() {
			if state[i] == free && !s.Time(i).IsZero() {
				es = append(es, ent{s.Currency(i), s.Amount(i), s.Time(i).UnixNano(), s.Kind(i), int32(i)})
			}
		}
		return es
	}
	order := func(s side, es []ent) {
		slices.SortFunc(es, func(a, b ent) int {
			if c := strings.Compare(a.cur, b.cur); c != 0 {
				return c
			}
			if c := cmp.Compare(a.kind, b.kind); c != 0 {
				return c
			}
			if c := cmp.Compare(a.amt, b.amt); c != 0 {
				return c
			}
			if c := cmp.Compare(a.t, b.t); c != 0 {
				return c
			}
			return s.Compare(int(a.idx), int(b.idx))
		})
	}
	// Sorted only when both sides have something left to pair: a report
	// against books that hold none of it leaves a million records free.
	ps, ls := collect(m.p, m.pState), collect(m.l, m.lState)
	if len(ps) == 0 || len(ls) == 0 {
		return
	}
	order(m.p, ps)
	order(m.l, ls)
	key := func(e ent) (string, uint8, int64) { return e.cur, e.kind, e.amt }
	keyCmp := func(a, b ent) int {
		ac, ak, aa := key(a)
		bc, bk, ba := key(b)
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		if c := cmp.Compare(ak, bk); c != 0 {
			return c
		}
		return cmp.Compare(aa, ba)
	}
	groupEnd := func(es []ent, i int) int {
		j := i + 1
		for j < len(es) && keyCmp(es[i], es[j]) == 0 {
			j++
		}
		return j
	}
	// within returns the range of es (sorted by t) whose t is within w of t.
	within := func(es []ent, t, w int64) (int, int) {
		lo, _ := slices.BinarySearchFunc(es, t-w, func(e ent, v int64) int { return cmp.Compare(e.t, v) })
		hi, _ := slices.BinarySearchFunc(es, t+w+1, func(e ent, v int64) int { return cmp.Compare(e.t, v) })
		return lo, hi
	}
	w := int64(m.opt.HeuristicWindow)
	var pairs [][2]int32
	i, j := 0, 0
	for i < len(ps) && j < len(ls) {
		switch c := keyCmp(ps[i], ls[j]); {
		case c < 0:
			i = groupEnd(ps, i)
		case c > 0:
			j = groupEnd(ls, j)
		default:
			pe, le := groupEnd(ps, i), groupEnd(ls, j)
			pg, lg := ps[i:pe], ls[j:le]
			for _, p := range pg {
				lo, hi := within(lg, p.t, w)
				if hi-lo != 1 {
					continue
				}
				if plo, phi := within(pg, lg[lo].t, w); phi-plo == 1 {
					pairs = append(pairs, [2]int32{p.idx, lg[lo].idx})
				}
			}
			i, j = pe, le
		}
	}
	for _, pr := range pairs {
		m.pMate[pr[0]], m.lMate[pr[1]] = pr[1], pr[0]
		m.pState[pr[0]], m.lState[pr[1]], m.pHow[pr[0]] = paired, paired, viaHeuristic
	}
}

// links returns the pairs this run found other than through given links.
func (m *matcher) links() []Link {
	n := 0
	for i := range m.p.Len() {
		if m.pState[i] == paired && m.pHow[i] != viaLink {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ls := make([]Link, 0, n)
	for i := range m.p.Len() {
		if m.pState[i] == paired && m.pHow[i] != viaLink {
			ls = append(ls, Link{ProviderID: m.p.ID(i), LedgerID: m.l.ID(int(m.pMate[i])), Heuristic: m.pHow[i] == viaHeuristic})
		}
	}
	return ls
}

// compareTimeID orders by time, then id: the base of every Compare.
func compareTimeID(ta, tb time.Time, ia, ib string) int {
	if c := ta.Compare(tb); c != 0 {
		return c
	}
	return strings.Compare(ia, ib)
}
