package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/settlehq/settle/app"
)

// Where a child's time went, by its own account: settle reconcile's JSON
// gives each step's time (took_ms), and serve --once logs the time of each
// part of the nightly job. The bench prints them beside the wall time; what
// is left of the wall time is starting, opening the database and the
// checkpoint at exit.

// reconcileSteps reads the step timings from settle reconcile --format
// json's output.
func reconcileSteps(out string) (*app.TookMS, error) {
	return tookMS[app.TookMS]("reconcile", out)
}

// tookMS reads the took_ms object of settle command's --format json
// output.
func tookMS[T any](command, out string) (*T, error) {
	start := strings.IndexByte(out, '{')
	if start < 0 {
		return nil, fmt.Errorf("no JSON in settle %s's output: %q", command, firstLine(out))
	}
	var v struct {
		Took *T `json:"took_ms"`
	}
	if err := json.NewDecoder(strings.NewReader(out[start:])).Decode(&v); err != nil {
		return nil, fmt.Errorf("settle %s's JSON: %w", command, err)
	}
	if v.Took == nil {
		return nil, fmt.Errorf("settle %s's JSON has no took_ms", command)
	}
	return v.Took, nil
}

// recordSteps reads where a record's time went from settle record
// --format json's output.
func recordSteps(out string) (*recordTookMS, error) {
	return tookMS[recordTookMS]("record", out)
}

// showRecordSteps is a record's steps as the bench prints them, or why
// they could not be read.
func showRecordSteps(out string) string {
	k, err := recordSteps(out)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("open %s, events %s, commit %s, close %s", ms(k.Open), ms(k.Events), ms(k.Commit), ms(k.Close))
}

// ms formats n milliseconds as the bench prints a step.
func ms(n int64) string {
	if n == 0 {
		return "0 ms" // under a millisecond
	}
	return dur(time.Duration(n) * time.Millisecond)
}

// stepString is a reconciliation's steps, as the bench prints them.
func stepString(k *app.TookMS) string {
	return fmt.Sprintf("load %s, match %s, adopt %s, store %s", ms(k.Load), ms(k.Match), ms(k.Adopt), ms(k.Store))
}

// nightlyStep is one part of a nightly job, as its log line reports it.
type nightlyStep struct {
	name  string
	took  time.Duration
	inner *app.TookMS // a reconciliation's own steps
}

// logField matches one key=value of a log line (slog's text format).
var logField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// nightlySteps reads the parts of a serve --once job from its log: the
// files imported, the ledger's upkeep, each reconciliation (with its
// steps) and the reports.
func nightlySteps(out string) ([]nightlyStep, error) {
	names := map[string]string{"inbox file imported": "import", "inbox bank statement imported": "bank import",
		"ledger upkeep": "upkeep", "reconciled": "reconcile", "reports written": "reports"}
	var steps []nightlyStep
	for line := range strings.Lines(out) {
		f := map[string]string{}
		for _, m := range logField.FindAllStringSubmatch(line, -1) {
			f[m[1]] = strings.Trim(m[2], `"`)
		}
		name, ok := names[f["msg"]]
		if !ok || f["took"] == "" {
			continue
		}
		took, err := time.ParseDuration(f["took"])
		if err != nil {
			return nil, fmt.Errorf("serve --once logged took=%q: %w", f["took"], err)
		}
		s := nightlyStep{name: name, took: took}
		if name == "reconcile" {
			var t app.Timings
			for _, p := range []struct {
				key string
				d   *time.Duration
			}{{"load", &t.Load}, {"match", &t.Match}, {"adopt", &t.Adopt}, {"store", &t.Store}} {
				if *p.d, err = time.ParseDuration(f[p.key]); err != nil {
					return nil, fmt.Errorf("serve --once logged %s=%q: %w", p.key, f[p.key], err)
				}
			}
			s.inner = t.MS()
		}
		steps = append(steps, s)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("serve --once logged no step with its time: %q", firstLine(out))
	}
	return steps, nil
}

func formatSteps(steps []nightlyStep) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.name + " " + dur(s.took)
		if s.inner != nil {
			parts[i] += " (" + stepString(s.inner) + ")"
		}
	}
	return strings.Join(parts, ", ")
}
