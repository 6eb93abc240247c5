// Package bank reads bank statements, so that payouts can be matched to the
// deposits a bank reports. It is pure: an io.Reader goes in, and balanced
// Statements with their Lines come out through a callback (Read) or as a
// slice (ReadAll). It knows nothing of the store or of reconciliation.
//
// Every amount is an exact int64 in the currency's minor units, signed from
// the account holder's side: a credit (money in) is positive, a debit
// negative, an overdrawn balance negative. Each statement must balance,
// opening balance plus booked lines equal to the closing balance, or the
// file is refused whole; every problem found is listed as
// file:line: element: reason (an ErrorList of *ParseError). Each line keeps
// its line number, byte offset and raw text for audit. Reading streams:
// one statement is held at a time.
//
// # BAI2
//
// The US cash-management format of the Bank Administration Institute,
// version 2. Records are comma-separated lines whose first field is the
// record code; a slash ends a record's fields early, and a record that
// does not fit one line goes on in 88 continuation records. The nesting is
// file (01 header, 99 trailer) → group (02, 98; one as-of date, a default
// currency, USD when blank) → account (03, 49) → transaction details (16).
// The 03 record carries summaries as repeated (type code, amount, item
// count, funds type) groups; 010 is the opening and 015 the closing ledger
// balance, which this reader requires. A 16 record is type code, amount,
// funds type, bank reference, customer reference and free text; the text
// runs to the end of the record, through its continuations, and may hold
// commas and slashes. Type codes 100–399 are credits, 400–699 debits; any
// other code may not carry an amount. A funds type brings extra fields: S
// three availability amounts, V a value date and time, D a count of
// (days, amount) pairs. Amounts have no decimal point: the currency's minor
// unit is implied, so the number is already in minor units (balances and
// totals may be signed, details not). Dates are YYMMDD. The trailers carry
// control totals: each 49 the sum of its account's 03 and 16 amounts and
// its record count (03 to 49, continuations included); each 98 the sum of
// its accounts' totals, their number and its record count; the 99 the same
// over groups. All are checked. A statement is one account of one group;
// its ID is the file identification number of the 01 record.
//
// # ISO 20022 camt.053
//
// The XML bank-to-customer statement, versions .001.02 to .001.08, read
// with encoding/xml a token at a time. A Document holds BkToCstmrStmt,
// which holds one or more Stmt. A Stmt names its account (Acct/Id/IBAN or
// Acct/Id/Othr/Id, with Acct/Ccy), has balances (Bal) typed by
// Tp/CdOrPrtry/Cd, and entries (Ntry). Amounts are unsigned decimals with
// a Ccy attribute, their direction given by CdtDbtInd (CRDT or DBIT); on an
// entry, RvslInd marks a reversal, but CdtDbtInd still says which way the
// money moved. Dates are Dt (a date) or DtTm (a date-time). The opening
// balance is OPBD, or PRCD (the previous statement's closing) when OPBD is
// absent; the closing is CLBD; available and interim balances are passed
// over. Entry status is plain text up to .07 and Sts/Cd in .08: only BOOK
// entries count towards the closing balance, and PDNG or INFO entries are
// kept with their status. From NtryDtls/TxDtls come the end-to-end id,
// message id and servicer reference (Refs) and the unstructured remittance
// lines (RmtInf/Ustrd); BkTxCd gives the domain/family/sub-family code or a
// proprietary one. An envelope around the Document is allowed.
//
// # SWIFT MT940
//
// The customer statement message: fields tagged :NN: or :NNa: at the start
// of a line, a field going on over the following untagged lines. :20: is
// the statement's reference, :25: the account, :28C: the statement and
// sequence number, :60F: (or :60M: on a continued statement) the opening
// balance and :62F: (or :62M:) the closing one, each a C or D mark, a
// YYMMDD date, a currency and an amount. Amounts use a decimal comma that
// is always written ("100," is a hundred). A :61: line is the value date,
// an optional MMDD entry date (its year is the one nearest the value
// date), the mark (C, D, or RC and RD for reversals of a credit and of a
// debit), an optional funds-code letter, the amount, the transaction type
// (N, F or S and three characters), the customer reference, an optional
// //bank reference, and on its next line optional supplementary details.
// An :86: after a :61: is that line's information (up to six lines); one
// elsewhere is about the whole statement. A file holds several messages,
// either plain and ended by a line holding "-", or wrapped in SWIFT blocks
// ({1:…}{2:…}{4: … -}); both are read.
package bank
