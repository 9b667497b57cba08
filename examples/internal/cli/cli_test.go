package cli

import (
	"bytes"
	"testing"

	"github.com/seed9bfd6bbc/ags"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExtent(t *testing.T) {
	e, err := ParseExtent("1,2,3,4,102100")
	require.NoError(t, err)
	assert.Equal(t, &ags.Extent{XMin: 1, YMin: 2, XMax: 3, YMax: 4, SpatialReference: &ags.SpatialReference{WKID: 102100}}, e)
	for _, bad := range []string{"", "1,2,3,4", "1,2,3,x,4326", "3,2,1,4,4326", "1,2,3,4,0"} {
		_, err := ParseExtent(bad)
		assert.Error(t, err, bad)
	}
}

func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out)
	on := p.OnStatus("job")
	msg := []ags.JobMessage{{Type: "esriJobMessageTypeInformative", Description: "Submitted."}}
	on(ags.JobStatus{JobID: "j1", State: ags.JobRunning, NewMessages: msg, Progress: &ags.JobProgress{Percent: 40}})
	on(ags.JobStatus{JobID: "j1", State: ags.JobRunning, Progress: &ags.JobProgress{Percent: 40}})
	on(ags.JobStatus{JobID: "j1", State: ags.JobSucceeded})
	p.Done()
	assert.Equal(t, "  job: Submitted.\njob: job j1 running  40%\njob: job j1 succeeded\n", out.String(),
		"not a terminal: plain lines, a repeated status printed once")
}

func TestSiteOpen(t *testing.T) {
	// No URL: an embedded emulator, its default user, a client that trusts it.
	var out bytes.Buffer
	s := Site{}
	closeSite, err := s.Open(&out)
	require.NoError(t, err)
	defer closeSite()
	assert.Contains(t, out.String(), "embedded ArcGIS Server emulator")
	assert.NotEmpty(t, s.URL)
	assert.NotEmpty(t, s.User)
	assert.NotEmpty(t, s.Password)
	require.NotNil(t, s.HTTPClient)
	c, err := ags.NewClient(s.URL, ags.WithCredentials(s.User, s.Password), ags.WithHTTPClient(s.HTTPClient))
	require.NoError(t, err)
	_, err = c.Services.List(t.Context(), "")
	require.NoError(t, err, "signed in to the emulator over TLS")

	// A real site needs a user and a password from the environment.
	t.Setenv("AGS_PASSWORD", "")
	_, err = (&Site{URL: "https://gis.example.com/arcgis"}).Open(&out)
	assert.ErrorContains(t, err, "AGS_USERNAME")
	_, err = (&Site{URL: "https://gis.example.com/arcgis", User: "publisher"}).Open(&out)
	assert.ErrorContains(t, err, "AGS_PASSWORD")
	t.Setenv("AGS_PASSWORD", "pw")
	s = Site{URL: "https://gis.example.com/arcgis", User: "publisher"}
	_, err = s.Open(&out)
	require.NoError(t, err)
	assert.Equal(t, "pw", s.Password)
	assert.NotNil(t, s.HTTPClient)
}
