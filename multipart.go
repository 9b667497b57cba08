package ags

import (
	"bytes"
	"errors"
	"io"
	"math"
	"mime/multipart"
	"net/url"
	"slices"
	"sync"
)

// filePart is the file a multipart call carries (itemFile of an upload,
// partFile of an upload part). Its content is streamed from src on every
// attempt, never held in memory by the client.
type filePart struct {
	field    string // form field, e.g. "itemFile"
	filename string // sent as the part's filename
	src      *bodySource
	// progress, if set, is told the bytes of the file read so far by the
	// current attempt (it starts again from 0 when an attempt is repeated).
	progress func(n int64)
}

// errNotRewindable ends a repeat of a request whose file came from a plain
// io.Reader that the first attempt had already started to read.
var errNotRewindable = errors.New("cannot send the file again: its reader was already read and cannot seek back " +
	"(pass an *os.File, an io.ReaderAt or an io.ReadSeeker to make the upload repeatable)")

// bodySource yields a file's content from its start, once per attempt.
type bodySource struct {
	size int64 // -1 when unknown
	open func() (io.Reader, error)
}

// bytesSource is content already in memory.
func bytesSource(b []byte) *bodySource {
	return &bodySource{size: int64(len(b)), open: func() (io.Reader, error) { return bytes.NewReader(b), nil }}
}

// sectionSource reads n bytes at off of ra, as often as asked.
func sectionSource(ra io.ReaderAt, off, n int64) *bodySource {
	return &bodySource{size: n, open: func() (io.Reader, error) { return io.NewSectionReader(ra, off, n), nil }}
}

// seekSource reads rs from offset base to its end (size bytes), seeking
// back to base before every attempt.
func seekSource(rs io.ReadSeeker, base, size int64) *bodySource {
	return &bodySource{size: size, open: func() (io.Reader, error) {
		if _, err := rs.Seek(base, io.SeekStart); err != nil {
			return nil, err
		}
		return io.LimitReader(rs, size), nil
	}}
}

// onceSource reads r, which cannot seek: a repeat is possible only while
// nothing has been read from it.
func onceSource(r io.Reader, size int64) *bodySource {
	var mu sync.Mutex
	read := false
	return &bodySource{size: size, open: func() (io.Reader, error) {
		mu.Lock()
		defer mu.Unlock()
		if read {
			return nil, errNotRewindable
		}
		return readerFunc(func(p []byte) (int, error) {
			mu.Lock()
			read = true
			mu.Unlock()
			return r.Read(p)
		}), nil
	}}
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// body frames the file as multipart/form-data after the form fields
// (sorted, the token last): the small head and tail are built here, the
// file is streamed between them. It returns the per-attempt opener and the
// Content-Type. The token is a form field, as the admin API wants for
// every POST (REST-REFERENCE §0.7, §8), never a URL query.
func (p *filePart) body(vals url.Values, token string) (func() (io.Reader, error), string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		if k != "token" || token == "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range vals[k] {
			if err := mw.WriteField(k, v); err != nil {
				return nil, "", err
			}
		}
	}
	if token != "" {
		if err := mw.WriteField("token", token); err != nil {
			return nil, "", err
		}
	}
	if _, err := mw.CreateFormFile(p.field, p.filename); err != nil {
		return nil, "", err
	}
	headLen := buf.Len()
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	all := buf.Bytes()
	head, tail := all[:headLen], all[headLen:]
	total := int64(-1)
	if p.src.size >= 0 {
		total = int64(len(head)) + p.src.size + int64(len(tail))
	}
	open := func() (io.Reader, error) {
		f, err := p.src.open()
		if err != nil {
			return nil, err
		}
		if p.progress != nil {
			f = &countingReader{r: f, fn: p.progress}
		}
		mr := io.MultiReader(bytes.NewReader(head), f, bytes.NewReader(tail))
		if total < 0 || total > math.MaxInt {
			return mr, nil // sent chunked (Len is an int: 32-bit platforms)
		}
		return &lenReader{Reader: mr, n: total}, nil
	}
	return open, mw.FormDataContentType(), nil
}

// lenReader tells the transport the body's length (a Len() int method),
// so it is sent with a Content-Length rather than chunked.
type lenReader struct {
	io.Reader
	n int64
}

func (l *lenReader) Len() int { return int(l.n) }

// countingReader reports the bytes read so far.
type countingReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.fn(c.n)
	}
	return n, err
}
