package ags

import (
	"bufio"
	"context"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed9bfd6bbc/ags/agstest"
)

// BenchmarkUpload500MB uploads a generated 500 MB service definition to
// the emulator (which counts the bytes and keeps none) in one request and
// in parts, and reports the peak heap seen while it runs and the process's
// peak RSS (Linux VmHWM: a high-water mark for the whole process, so run
// this benchmark on its own):
//
//	go test -run '^$' -bench Upload500MB -benchtime 1x .
//
// "plain reader" is a reader without ReadAt or Seek, whose parts are
// buffered (one part at a time) so that they can be sent again.
func BenchmarkUpload500MB(b *testing.B) {
	const size = 500 << 20
	for _, bc := range []struct {
		name  string
		opts  UploadOptions
		plain bool
	}{
		{name: "one request", opts: UploadOptions{PartThreshold: -1}},
		{name: "in parts", opts: UploadOptions{}},
		{name: "in parts, plain reader", opts: UploadOptions{Size: size}, plain: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := agstest.NewServer()
			defer srv.Close()
			c, err := NewClient(srv.URL(), WithHTTPClient(srv.Client()), WithInsecureHTTP(),
				WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword))
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			stop := samplePeakHeap()
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				var r io.Reader = agstest.FakeSD(size)
				if bc.plain {
					r = onlyReader{r}
				}
				item, err := c.Uploads.Upload(context.Background(), "Big.sd", r, &bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Uploads.Delete(context.Background(), item.ItemID); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			peakHeap := stop()
			b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
			}
		})
	}
}

// samplePeakHeap samples the bytes of live heap objects every 5 ms until
// the returned function is called, which returns the largest sample.
func samplePeakHeap() func() uint64 {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak {
			peak = v
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes,
// 0 where /proc is not there.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
