package main

import (
	"io"

	"github.com/schollz/progressbar/v3"
)

// progressMin is the smallest file that gets a progress bar: smaller ones
// are done before a bar would be worth drawing. A variable for the tests.
var progressMin int64 = 8 << 20

// withProgress returns r, a file of size bytes, wrapped in a progress bar
// on stderr labelled what, when stderr is a terminal and the file is large
// enough to take a while. A pipe (size 0) gets no bar. The bar is drawn
// at 0% at once and clears itself when the last byte is read.
func (a *cli) withProgress(r io.Reader, size int64, what string) io.Reader {
	if !a.isTerminal || size < progressMin {
		return r
	}
	bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(a.stderr), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription(what), progressbar.OptionClearOnFinish())
	_ = bar.RenderBlank() // a bar that cannot be drawn is no reason to fail the command
	pr := progressbar.NewReader(r, bar)
	return &pr
}
