package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/term"
)

// Output modes (-o).
const (
	modeTable  = "table"  // human tables and lines (the default)
	modeJSON   = "json"   // one JSON document
	modeNDJSON = "ndjson" // one JSON event per line
)

// printer writes one site's output in the chosen mode. Data goes to out
// (stdout); progress, notes and errors to errw (stderr). With several
// sites each line is prefixed with the site's name (table mode) or gets a
// "site" field (json, ndjson).
type printer struct {
	mode  string
	site  string // "" for a single site
	quiet bool
	out   io.Writer
	errw  io.Writer
	tty   bool      // stderr is a terminal: progress bars may be drawn
	term  io.Writer // stderr itself, for the progress bars

	mu     sync.Mutex
	docs   []json.RawMessage // json mode: the documents written, for the caller
	errors []string          // the errors reported, for a document that has none
}

// table writes a table (table mode only), nothing when there are no rows.
func (p *printer) table(header []string, rows [][]string) {
	if p.mode != modeTable || len(rows) == 0 {
		return
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	if len(header) > 0 {
		fmt.Fprintln(tw, strings.Join(header, "\t"))
	}
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	p.write(p.out, buf.Bytes())
}

// data writes a line that is the command's answer (table mode only), e.g.
// a job reference; -q does not silence it.
func (p *printer) data(format string, args ...any) {
	if p.mode == modeTable {
		p.write(p.out, []byte(fmt.Sprintf(format, args...)+"\n"))
	}
}

// done writes a confirmation line, e.g. "started Maps/Roads.MapServer"
// (table mode, unless -q).
func (p *printer) done(format string, args ...any) {
	if p.mode == modeTable && !p.quiet {
		p.write(p.out, []byte(fmt.Sprintf(format, args...)+"\n"))
	}
}

// note writes a line for a human to stderr, in any mode, unless -q.
func (p *printer) note(format string, args ...any) {
	if !p.quiet {
		p.write(p.errw, []byte(fmt.Sprintf(format, args...)+"\n"))
	}
}

// error reports an error on stderr (never silenced) and, in ndjson mode,
// as an "error" event.
func (p *printer) error(err error, code int, fields map[string]any) {
	p.write(p.errw, []byte("ags: "+err.Error()+"\n"))
	p.mu.Lock()
	p.errors = append(p.errors, err.Error())
	p.mu.Unlock()
	if fields == nil {
		fields = map[string]any{}
	}
	fields["error"] = err.Error()
	fields["exit_code"] = code
	p.event("error", fields)
}

// doc records v as the command's JSON document (json mode only).
func (p *printer) doc(v any) {
	if p.mode != modeJSON {
		return
	}
	b, err := withSite(v, p.site, "")
	if err != nil {
		p.write(p.errw, []byte("ags: encoding output: "+err.Error()+"\n"))
		return
	}
	p.mu.Lock()
	p.docs = append(p.docs, b)
	p.mu.Unlock()
}

// event writes one ndjson line {"event": name, ...fields of v} (ndjson mode
// only). v is a struct or map that encodes as a JSON object.
func (p *printer) event(name string, v any) {
	if p.mode != modeNDJSON {
		return
	}
	b, err := withSite(v, p.site, name)
	if err != nil {
		p.write(p.errw, []byte("ags: encoding output: "+err.Error()+"\n"))
		return
	}
	p.write(p.out, append(b, '\n'))
}

func (p *printer) write(w io.Writer, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = w.Write(b)
}

// withSite encodes v (a JSON object) with "site" and "event" fields added
// when they are not empty.
func withSite(v any, site, event string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if site == "" && event == "" {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("output is not a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	if site != "" {
		m["site"], _ = json.Marshal(site)
	}
	if event != "" {
		m["event"], _ = json.Marshal(event)
	}
	return json.Marshal(m)
}

// writeDocs writes the json documents of all sites: one document for one
// site, an array of documents for several.
func writeDocs(w io.Writer, docs []json.RawMessage, several bool) {
	switch {
	case several:
		if docs == nil {
			docs = []json.RawMessage{}
		}
		b, _ := json.MarshalIndent(docs, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
	case len(docs) == 1:
		var buf bytes.Buffer
		_ = json.Indent(&buf, docs[0], "", "  ")
		fmt.Fprintf(w, "%s\n", buf.Bytes())
	case len(docs) > 1: // not expected: one command writes one document
		b, _ := json.MarshalIndent(docs, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
	}
}

// prefixWriter prefixes every line with a site's name and writes whole
// lines only, so the output of sites running at once does not interleave
// within a line.
type prefixWriter struct {
	mu     *sync.Mutex // shared by all sites writing to w
	w      io.Writer
	prefix string
	buf    []byte
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	pw.buf = append(pw.buf, b...)
	i := bytes.LastIndexByte(pw.buf, '\n')
	if i < 0 {
		return len(b), nil
	}
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(pw.buf[:i+1], []byte("\n")) {
		if len(line) > 0 {
			out.WriteString(pw.prefix)
			out.Write(line)
		}
	}
	pw.buf = append(pw.buf[:0], pw.buf[i+1:]...)
	pw.mu.Lock()
	defer pw.mu.Unlock()
	_, err := pw.w.Write(out.Bytes())
	return len(b), err
}

// Flush writes a last line that has no newline.
func (pw *prefixWriter) Flush() {
	if len(pw.buf) > 0 {
		_, _ = pw.Write([]byte("\n"))
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
