package ledger

// SetAdoptionChunk makes AdoptDates work n adoptions at a time until the
// returned function restores the default.
func SetAdoptionChunk(n int) (restore func()) {
	old := adoptionChunk
	adoptionChunk = n
	return func() { adoptionChunk = old }
}
