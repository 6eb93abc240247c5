package ledger

import (
	"fmt"
	"strings"
)

// maxProviderName bounds a provider name: it is part of account names and
// of every balance transaction's key.
const maxProviderName = 64

// NormalizeProvider returns the one spelling settle keeps of a provider
// name: trimmed and lower case, so " Stripe" is "stripe". What remains must
// be 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or a digit;
// any other name is refused with ErrInvalidRequest.
//
// Provider names become account segments (assets:stripe:available), which
// allow exactly those characters. Refusing the others, rather than
// replacing them as Slug does, is what keeps providers apart: replaced,
// "strip.e", "strip e" and "strip_e" would post to one set of accounts
// while their payments, balance transactions and reconciliation runs kept
// three names. As it is, a name is its own account segment, so two names
// can never share accounts and no look-up of the providers already in the
// books is needed. Case is folded rather than refused because "Stripe" and
// "stripe" are plainly one provider, and should be one name everywhere.
//
// Provider names enter settle through the lifecycle requests (Authorize,
// Capture, CreatePayout, BookProviderTransaction, and so the event feed)
// and the importers (a mapping's provider, import --provider); each passes
// them through here. Books written before keep the names they hold.
func NormalizeProvider(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	ok := n != "" && len(n) <= maxProviderName && n[0] != '_' && n[0] != '-'
	for i := 0; ok && i < len(n); i++ {
		c := n[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return "", fmt.Errorf("%w: provider name %q: use 1 to %d of a-z, 0-9, '_' and '-', starting with a letter or digit", ErrInvalidRequest, name, maxProviderName)
	}
	return n, nil
}

// normalizeProvider normalizes a request's provider name in place. An
// empty name is left for the caller, which knows whether one is required.
func normalizeProvider(name *string) error {
	if *name == "" {
		return nil
	}
	n, err := NormalizeProvider(*name)
	*name = n
	return err
}
