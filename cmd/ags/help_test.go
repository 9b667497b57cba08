package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every command that runs has an example in its --help, and no command
// takes a password on the command line.
func TestEveryCommandHasAnExample(t *testing.T) {
	a := newApp(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && c.Name() != "help" && c.Name() != "completion" {
			n++
			assert.NotEmpty(t, c.Example, "%s has no example", c.CommandPath())
		}
		assert.Nil(t, c.Flags().Lookup("password"), "%s has a --password flag", c.CommandPath())
		assert.Nil(t, c.Flags().Lookup("token"), "%s has a --token flag", c.CommandPath())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.rootCmd())
	assert.GreaterOrEqual(t, n, 17)
}

func TestHelpPrintsExample(t *testing.T) {
	var out bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &out, func(string) string { return "" })
	require.Equal(t, 0, a.run(context.Background(), []string{"refresh", "--help"}))
	assert.Contains(t, out.String(), "Examples:")
	assert.Contains(t, out.String(), "ags job wait")
}

func TestJobRefRoundTrip(t *testing.T) {
	for _, r := range []jobRef{
		{Kind: kindGP, Path: "System/PublishingTools/GPServer/Refresh Service", ID: "j1a2"},
		{Kind: kindTiles, Path: "Hosted/Basemap.MapServer", ID: "8f3e-11"},
		{Kind: kindGP, Path: "Tools/GPServer/A:B", ID: "x"},
		{Kind: kindPublish, Path: "System/PublishingTools/GPServer/Publish Service Definition", ID: "j4c5"},
	} {
		s := r.String()
		assert.NotContains(t, s, " ")
		got, err := parseJobRef(s)
		require.NoError(t, err, s)
		assert.Equal(t, r, got)
	}
	for _, bad := range []string{"", "gp", "gp:path", "gp::id", "gp:path:", "admin:x:y", "gp:%zz:id"} {
		_, err := parseJobRef(bad)
		assert.Equal(t, exitUsage, exitCode(err), bad)
	}
}

func TestCombineAndWorst(t *testing.T) {
	assert.Equal(t, 0, combine(nil))
	assert.Equal(t, 0, combine([]int{0, 0}))
	assert.Equal(t, 6, combine([]int{0, 4}))
	assert.Equal(t, 6, combine([]int{0, 6}))
	assert.Equal(t, 4, combine([]int{4, 5}))
	assert.Equal(t, 1, combine([]int{1, 6}))
	assert.Equal(t, 3, worst([]int{0, 3, 4}))
	assert.Equal(t, 5, worst([]int{0, 5, 6}))
	assert.Equal(t, 2, worst([]int{2, 3}))
}

// --demo starts and stops its emulator within the command (TestMain checks
// that no goroutine outlives it).
func TestDemoInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	require.Equal(t, 0, a.run(context.Background(), []string{"--demo", "services", "list", "-o", "json"}), errb.String())
	assert.Contains(t, out.String(), `"service": "Imagery/Portland.ImageServer"`)
	assert.Contains(t, errb.String(), "--demo: running against an embedded ArcGIS Server emulator")
}

// The README's exit-code table says what 'ags help exit-codes' says, code
// by code (backticks and quotes aside).
func TestReadmeExitCodesMatchHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	norm := func(s string) string {
		return strings.Join(strings.Fields(strings.NewReplacer("`", "", "'", "").Replace(s)), " ")
	}

	help := map[string]string{}
	code := ""
	for _, line := range strings.Split(exitCodesHelp, "\n") {
		if m := regexp.MustCompile(`^  (\d)  (.*)$`).FindStringSubmatch(line); m != nil {
			code = m[1]
			help[code] = m[2]
		} else if code != "" && strings.HasPrefix(line, "     ") {
			help[code] += " " + line
		} else {
			code = ""
		}
	}

	_, section, ok := strings.Cut(string(readme), "\n## The `ags` command\n")
	require.True(t, ok, "README has no section \"## The `ags` command\"")
	section, _, _ = strings.Cut(section, "\n## ")
	table := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\| (\d) \| (.*) \|$`).FindAllStringSubmatch(section, -1) {
		table[m[1]] = m[2]
	}

	require.Len(t, help, 7, "exit codes in 'ags help exit-codes'")
	require.Len(t, table, len(help), "exit codes in the README's table")
	for c, text := range help {
		assert.Equal(t, norm(text), norm(table[c]), "exit code %s", c)
	}
}
