package ags_test

// The Go snippets of README.md, of doc.go's "Getting started" and of
// agstest/doc.go's "Example" are built
// as pasted: each goes into a package of its own, in a scratch module that
// points at this one, and `go vet` compiles them all. A snippet made of
// statements runs inside a function where only c (an *ags.Client) and ctx
// (a context.Context) are given, as the README says; everything else it
// uses, it declares. A snippet with func declarations is a file of its own.
// Compiler errors name the README or doc.go line.

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snippet is one Go code block of a document.
type snippet struct {
	file string // README.md or doc.go
	line int    // of the first code line
	code string
}

// readmeSnippets returns the ```go blocks of a Markdown file.
func readmeSnippets(t *testing.T, name string) []snippet {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	var out []snippet
	var cur *snippet
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &snippet{file: name, line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a ```go block is not closed", name)
	return out
}

// docSnippets returns the indented code blocks of the "# Getting started"
// section of a package comment.
func docSnippets(t *testing.T, name, section string) []snippet {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	var out []snippet
	var cur *snippet
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//") {
			break // the end of the package comment
		}
		text := strings.TrimPrefix(line, "//")
		if strings.HasPrefix(text, " # ") {
			in = text == " # "+section
			continue
		}
		if !in {
			continue
		}
		switch {
		case strings.HasPrefix(text, "\t"):
			if cur == nil {
				cur = &snippet{file: name, line: i + 1}
			}
			cur.code += strings.TrimPrefix(text, "\t") + "\n"
		case cur != nil && strings.TrimSpace(text) == "":
			cur.code += "\n"
		case cur != nil:
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// snippetImports are the packages a snippet may use without importing
// them, by the name it uses.
var snippetImports = map[string]string{
	"ags":     "github.com/seed9bfd6bbc/ags",
	"agstest": "github.com/seed9bfd6bbc/ags/agstest",
	"assert":  "github.com/stretchr/testify/assert",
	"require": "github.com/stretchr/testify/require",
	"context": "context",
	"errors":  "errors",
	"fmt":     "fmt",
	"http":    "net/http",
	"json":    "encoding/json",
	"log":     "log",
	"os":      "os",
	"slog":    "log/slog",
	"strings": "strings",
	"testing": "testing",
	"time":    "time",
}

// snippetFile turns a snippet into the source of a Go file, or "" for a
// snippet of import declarations only (which parsing checks).
func snippetFile(t *testing.T, s snippet) string {
	t.Helper()
	fset := token.NewFileSet()
	where := fmt.Sprintf("%s:%d", s.file, s.line)
	if f, err := parser.ParseFile(fset, where, "package p\n"+s.code, parser.SkipObjectResolution); err == nil {
		if len(f.Decls) == len(f.Imports) && len(f.Imports) > 0 {
			return ""
		}
		if len(f.Imports) == 0 {
			return "package p\n\n" + importsFor(f) + "//line " + where + "\n" + s.code
		}
		return "package p\n\n//line " + where + "\n" + s.code
	}
	// Statements: the body of a function that returns an error, where c and
	// ctx are given.
	body := "func snippet() error {\n\tvar c *ags.Client\n\tvar ctx context.Context\n\t_, _ = c, ctx\n\t{\n//line " +
		where + "\n" + s.code + "\n\t}\n"
	f, err := parser.ParseFile(fset, where, "package p\n\n"+body+"}\n", parser.SkipObjectResolution)
	require.NoError(t, err, "%s does not parse as Go statements or declarations", where)
	inner := f.Decls[0].(*ast.FuncDecl).Body.List[3].(*ast.BlockStmt).List
	if len(inner) == 0 {
		body += "\treturn nil\n"
	} else if _, ok := inner[len(inner)-1].(*ast.ReturnStmt); !ok {
		body += "\treturn nil\n"
	}
	return "package p\n\n" + importsFor(f) + body + "}\n"
}

// importsFor returns an import declaration for every package of
// snippetImports that f refers to.
func importsFor(f *ast.File) string {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				if _, known := snippetImports[id.Name]; known {
					used[id.Name] = true
				}
			}
		}
		return true
	})
	if len(used) == 0 {
		return ""
	}
	var paths []string
	for name := range used {
		paths = append(paths, fmt.Sprintf("\t%q\n", snippetImports[name]))
	}
	sort.Strings(paths)
	return "import (\n" + strings.Join(paths, "") + ")\n\n"
}

// requireBlock matches go.mod's require lines, in a block or alone.
var requireBlock = regexp.MustCompile(`(?ms)^require \(.*?^\)|^require [^(].*?$`)

func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a scratch module with the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	readme, doc := readmeSnippets(t, "README.md"), docSnippets(t, "doc.go", "Getting started")
	require.GreaterOrEqual(t, len(readme), 8, "the README's snippets were found")
	require.Len(t, doc, 1, "doc.go's Getting started code was found")
	emulator := docSnippets(t, filepath.Join("agstest", "doc.go"), "Example")
	require.Len(t, emulator, 1, "agstest/doc.go's Example code was found")
	snippets := append(append(readme, doc...), emulator...)

	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	gomod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	mod := "module snippets\n\ngo 1.24\n\nrequire github.com/seed9bfd6bbc/ags v0.0.0\n\nreplace github.com/seed9bfd6bbc/ags => " +
		root + "\n\n" + strings.Join(requireBlock.FindAllString(string(gomod), -1), "\n\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	gosum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), gosum, 0o644))

	built := 0
	for i, s := range snippets {
		src := snippetFile(t, s)
		if src == "" {
			continue
		}
		pkg := filepath.Join(dir, fmt.Sprintf("s%02d", i))
		require.NoError(t, os.Mkdir(pkg, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(pkg, "snippet.go"), []byte(src), 0o644))
		built++
	}
	require.Positive(t, built)

	// Hermetic: no network (every module is already in the module cache, as
	// this package's own tests need them), no workspace, this toolchain.
	cmd := exec.Command(goTool, "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "a snippet does not compile as pasted:\n%s", out)
}
