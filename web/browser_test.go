package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the installed browser (Debian's chromium); the test skips
// without it unless SETTLE_REQUIRE_TOOLS=1. Nothing is downloaded.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SETTLE_REQUIRE_TOOLS") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium) and SETTLE_REQUIRE_TOOLS=1")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// artifacts is where screenshots go: $SETTLE_ARTIFACTS, or the test's
// artifact directory (go test -artifacts keeps it).
func artifacts(t *testing.T) string {
	if d := os.Getenv("SETTLE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// TestBrowser works an exception through the page in headless Chromium:
// open the demo's exceptions, filter, open one, preview and book its fix,
// reconcile, and see it gone.
func TestBrowser(t *testing.T) {
	path := chromium(t)
	e := newEnv(t, nil)
	e.demo()
	ts := httptest.NewServer(e.srv) // loopback
	defer ts.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTime()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}
	shot := func() []byte {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	step("opening the exceptions", chromedp.Navigate(ts.URL+"/exceptions"), chromedp.WaitVisible(css("#exceptions")))
	step("filtering to the mismatches", chromedp.SetValue(css("#kind"), "mismatched"), chromedp.Click(css("#apply")),
		chromedp.WaitNotPresent(css("#exceptions tbody tr:nth-child(2)")), chromedp.WaitVisible(css("#exceptions")))
	table := text("#exceptions tbody")
	step("opening the exception", chromedp.Click(css("#exceptions a.kind")), chromedp.WaitVisible(css("#sides")))
	sides := text("#sides")
	differing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#sides tr.differs th")).map(th => th.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	step("previewing the fix", chromedp.Click(css("#preview-fix")), chromedp.WaitVisible(css("#preview")))
	detailShot := shot()
	step("booking the fix", chromedp.SendKeys(css(`#resolve input[name="note"]`), "Stripe charged 0.95"),
		chromedp.Click(css("#book-fix")), chromedp.WaitVisible(css("#flash")))
	status, flash := text("#status"), text("#flash")
	step("reconciling", chromedp.Navigate(ts.URL+"/runs"), chromedp.Click(css("#run-now")), chromedp.WaitVisible(css("#flash")))
	step("opening the exceptions again", chromedp.Navigate(ts.URL+"/exceptions"), chromedp.WaitVisible(css("#exceptions")))
	after := text("#exceptions tbody")
	listShot := shot()

	if !strings.Contains(table, "ch_3Q1007") || strings.Contains(table, "ch_3Q1010") {
		t.Errorf("filtered to mismatches, the table shows:\n%s", table)
	}
	if !strings.Contains(sides, "txn_1Q0d006") || !strings.Contains(sides, "btx_9") {
		t.Errorf("the two sides:\n%s", sides)
	}
	if strings.Join(differing, ",") != "fee ≠,net ≠" {
		t.Errorf("differing fields marked: %q", differing)
	}
	if status != "resolved" || !strings.Contains(flash, "Fix booked") {
		t.Errorf("after booking: status %q, %q", status, flash)
	}
	if strings.Contains(after, "ch_3Q1007") || !strings.Contains(after, "ch_3Q1010") {
		t.Errorf("after the next run, the open exceptions:\n%s", after)
	}
	dir := artifacts(t)
	for name, b := range map[string][]byte{"exception-preview.png": detailShot, "exceptions-after-run.png": listShot} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
