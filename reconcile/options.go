package reconcile

import "time"

// Default tolerances.
const (
	DefaultHeuristicWindow = 3 * 24 * time.Hour
	DefaultDateTolerance   = 24 * time.Hour
)

// Options tune a matching run. A nil *Options means the defaults.
type Options struct {
	// Links maps provider record ids to the ledger ids they matched in
	// earlier runs (balance transaction ids, or payment ids on the payment
	// grain). They are tried first.
	Links map[string]string
	// LinkList lists such links too, as pairs (Heuristic is not read),
	// each provider id at most once: a million of them are loaded faster
	// into a list than into a map.
	LinkList []Link
	// HeuristicWindow is how far apart in time the two sides of a
	// currency-and-amount fallback match may be; default ±3 days.
	HeuristicWindow time.Duration
	// DateTolerance is how far apart the created (and available-on) times
	// of a pair may be before the pair is reported mismatched on date;
	// default 24 hours.
	DateTolerance time.Duration
	// ListMatched also lists the matched pairs in Result.Outcomes. Off by
	// default: at a million pairs they cost memory and say nothing the
	// Summary and Links do not.
	ListMatched bool
	// Fields lists the fields a pair is compared on (Field… constants);
	// nil compares every field. Amount is always compared: it is what a
	// pair is.
	Fields []string
}

// CompareFields lists every field a pair can be compared on, in order.
var CompareFields = []string{FieldAmount, FieldFee, FieldNet, FieldCurrency, FieldStatus, FieldDate, FieldAvailableOn,
	FieldCaptured, FieldRefunded, FieldDisputed}

// compares reports whether a field is compared.
func (o *Options) compares(field string) bool {
	if o.Fields == nil || field == FieldAmount {
		return true
	}
	for _, f := range o.Fields {
		if f == field {
			return true
		}
	}
	return false
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.HeuristicWindow <= 0 {
		v.HeuristicWindow = DefaultHeuristicWindow
	}
	if v.DateTolerance <= 0 {
		v.DateTolerance = DefaultDateTolerance
	}
	return v
}
