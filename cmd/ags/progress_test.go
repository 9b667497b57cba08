package main

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
)

// A tile job's progress per level becomes one bar per level: tiles built
// of those expected, tasks when a level has no estimate, an empty bar when
// it reports neither; a level outside 0..MaxLevel is left out.
func TestLevelBarStates(t *testing.T) {
	got := levelBarStates([]ags.LevelProgress{
		{Level: 14, Tiles: 100, EstimatedTiles: 100, DoneTasks: 1, Tasks: 1},
		{Level: 15, Tiles: 120, EstimatedTiles: 400, DoneTasks: 1, Tasks: 4},
		{Level: 16, Tiles: 900, EstimatedTiles: 800},
		{Level: 17, DoneTasks: 2, Tasks: 8},
		{Level: 18, Tiles: 7},
		{Level: 40, Tiles: 1, EstimatedTiles: 2},
	})
	assert.Equal(t, []levelBar{
		{level: 14, current: 100, total: 100, text: "100/100 tiles"},
		{level: 15, current: 120, total: 400, text: "120/400 tiles"},
		{level: 16, current: 800, total: 800, text: "900/800 tiles"}, // the bar stops full; the count says what the server said
		{level: 17, current: 2, total: 8, text: "2/8 tasks"},
		{level: 18, current: 0, total: 1, text: "7 tiles"},
	}, got)
	assert.Empty(t, levelBarStates(nil))
}

// syncBuffer is a terminal stand-in: mpb writes to it from its goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lastFrame is what the terminal shows at the end: the text after the last
// cursor movement, without escape sequences.
func lastFrame(out string) []string {
	esc := regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	frames := regexp.MustCompile(`\x1b\[[0-9]+A\x1b\[J`).Split(out, -1)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(esc.ReplaceAllString(frames[len(frames)-1], ""), "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// On a terminal a tile job gets a bar per level, under its own bar and in
// level order whatever order the levels come in; a GP job gets none.
// Without a terminal, or with -q, nothing is drawn.
func TestProgressLevelBars(t *testing.T) {
	recs := []jobRecord{
		{Kind: kindTiles, ID: "t1", Target: "Hosted/Basemap.MapServer"},
		{Kind: kindGP, ID: "g1", Target: "Maps/Roads.MapServer"},
	}
	running := ags.JobStatus{JobID: "t1", State: ags.JobRunning, Status: "INPROGRESS", Progress: &ags.JobProgress{Percent: 40,
		Levels: []ags.LevelProgress{
			{Level: 15, Tiles: 120, EstimatedTiles: 400, DoneTasks: 1, Tasks: 4},
			{Level: 14, Tiles: 100, EstimatedTiles: 100, DoneTasks: 1, Tasks: 1},
		}}}
	gp := ags.JobStatus{JobID: "g1", State: ags.JobRunning, Status: "esriJobExecuting", Progress: &ags.JobProgress{Percent: 10,
		Levels: []ags.LevelProgress{{Level: 3, Tiles: 1, EstimatedTiles: 2}}}}

	var term syncBuffer
	p := &printer{mode: modeTable, tty: true, term: &term, out: &bytes.Buffer{}, errw: &bytes.Buffer{}}
	pr := newProgress(p, recs)
	pr.update(0, running)
	pr.update(1, gp)
	later := running
	later.Progress = &ags.JobProgress{Percent: 60, Levels: []ags.LevelProgress{
		{Level: 14, Tiles: 100, EstimatedTiles: 100, DoneTasks: 1, Tasks: 1},
		{Level: 15, Tiles: 250, EstimatedTiles: 400, DoneTasks: 2, Tasks: 4},
		{Level: 16, DoneTasks: 0, Tasks: 16},
	}}
	pr.update(0, later)
	pr.finish([]bool{false, true})

	lines := lastFrame(term.String())
	require.Len(t, lines, 5, "%q", lines)
	want := []string{`^Hosted/Basemap.MapServer .*60 %$`, `^  level 14 .*100/100 tiles$`, `^  level 15 .*250/400 tiles$`,
		`^  level 16 .*0/16 tasks$`, `^Maps/Roads.MapServer .*100 %$`}
	for i, re := range want {
		assert.Regexp(t, re, strings.TrimRight(lines[i], " "), "line %d", i)
	}
	assert.NotContains(t, term.String(), "level 3", "a GP job has no level bars")

	for _, p := range []*printer{
		{mode: modeTable, tty: false, term: &syncBuffer{}, out: &bytes.Buffer{}, errw: &bytes.Buffer{}},
		{mode: modeTable, tty: true, quiet: true, term: &syncBuffer{}, out: &bytes.Buffer{}, errw: &bytes.Buffer{}},
		{mode: modeNDJSON, tty: true, term: &syncBuffer{}, out: &bytes.Buffer{}, errw: &bytes.Buffer{}},
	} {
		pr := newProgress(p, recs)
		pr.update(0, running)
		pr.finish([]bool{true, true})
		assert.Nil(t, pr.mpb)
		assert.Empty(t, p.term.(*syncBuffer).String(), "no bar without a terminal, with -q, or in ndjson")
	}
}

// A job that succeeded is at 100 %, even when its last status (a GP job's
// esriJobSucceeded) reports no progress after an earlier 25 %: its bar,
// its status event and its done record say so.
func TestSucceededIsFullProgress(t *testing.T) {
	recs := []jobRecord{{Kind: kindGP, ID: "g1", Target: "Imagery/Portland.ImageServer"}}
	running := ags.JobStatus{JobID: "g1", State: ags.JobRunning, Status: "esriJobExecuting", Progress: &ags.JobProgress{Percent: 25}}
	done := ags.JobStatus{JobID: "g1", State: ags.JobSucceeded, Status: "esriJobSucceeded"}

	var term syncBuffer
	p := &printer{mode: modeTable, tty: true, term: &term, out: &bytes.Buffer{}, errw: &bytes.Buffer{}}
	pr := newProgress(p, recs)
	pr.update(0, running)
	pr.update(0, done)
	pr.finish([]bool{true})
	lines := lastFrame(term.String())
	require.Len(t, lines, 1, "%q", lines)
	assert.Regexp(t, `^Imagery/Portland.ImageServer .*100 %$`, strings.TrimRight(lines[0], " "))

	var out bytes.Buffer
	p = &printer{mode: modeNDJSON, out: &out, errw: &bytes.Buffer{}}
	pr = newProgress(p, recs)
	pr.update(0, running)
	pr.update(0, done)
	events := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, events, 2)
	assert.Contains(t, events[0], `"percent":25`)
	assert.Contains(t, events[1], `"percent":100`)
	assert.Contains(t, events[1], `"state":"succeeded"`)
}
