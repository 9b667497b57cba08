package ags

import (
	"context"
	"time"
)

// SetClock makes c read the time from now and wait with sleep: polling,
// backoff and token renewal alike. Tests outside the package use it to run
// a client and an agstest server on one clock they drive.
func SetClock(c *Client, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	c.now, c.sleep = now, sleep
}
