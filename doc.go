// Package ags is a client for the ArcGIS Server administration and
// publishing REST API: publish services (createService, or a service
// definition with Services.PublishSD), make a live
// service pick up new data without a restart (the Refresh Service task),
// rebuild tile caches (updateTiles on hosted tile services, the Manage Map
// Cache Tiles task), and run any geoprocessing job to completion.
//
// # Getting started
//
// In a function that returns an error, with a context ctx:
//
//	c, err := ags.NewClient("https://gis.example.com:6443/arcgis",
//		ags.WithCredentials("publisher", os.Getenv("AGS_PASSWORD")))
//	if err != nil {
//		return err
//	}
//	portland := ags.ServiceRef{Folder: "Imagery", Name: "Portland", Type: ags.ImageServer}
//	res, err := c.Services.RefreshAndWait(ctx, portland, nil)
//	if err != nil {
//		return err
//	}
//	fmt.Println("refreshed", portland, res.Status)
//
// The site URL is a server's site root (https://host:6443/arcgis) or a web
// adaptor root (https://host/server). The services directory is found under
// rest/services, the admin API under admin and hosted-service admin under
// rest/admin (see WithRoots to change them). A Client is safe for concurrent
// use: make one per site and share it.
//
// # Authentication
//
// WithCredentials signs in with a username and password. The token service
// is discovered from rest/info (authInfo.tokenServicesUrl), falling back to
// tokens/generateToken; WithTokenURL("admin/generateToken") uses the admin
// API's own. For a server federated with a portal (rest/info has
// owningSystemUrl), a portal token is obtained from the token service the
// portal's own sharing/rest/info names, and exchanged for a server token.
// Tokens are bound to a referer (WithReferer, default
// DefaultReferer) that is also sent as the Referer header on every request,
// renewed before they expire (10% of their lifetime ahead) with one request
// however many goroutines wait, and renewed once more if the server rejects
// one (code 498 or 499, in any envelope), after which the request is
// replayed once. WithToken takes a fixed token or API key; WithTokenSource
// any TokenSource.
//
// # Security
//
// A token or password never goes into a URL query, a log line, an error
// string or the fmt output of any value of this package: every
// authenticated call, reads included, is a POST with the token in its form
// body (the admin API requires it, and the X-Esri-Authorization header,
// which goes along, is not honoured everywhere); a read sent this way is
// still retried as a read. Credentials are only ever sent over https,
// unless WithInsecureHTTP is given for a test server. Redirects to another
// host, or from https to http, are refused. TLS verification is never
// turned off; supply custom CAs, client certificates and proxies through
// WithHTTPClient.
//
// # Errors
//
// ArcGIS Server answers most errors with HTTP 200 and a JSON body, in
// several envelopes. Every one becomes an *Error, which errors.Is matches
// against sentinels (ErrInvalidToken, ErrTokenRequired, ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrServiceExists, ErrFolderExists,
// ErrServerBusy) and
// errors.As exposes with the server's message, details and codes.
// ErrNotFound matches code 404 and the services directory's code-500
// "Service … not found " answer; ErrServiceExists and ErrFolderExists match
// only answers of createService and createFolder. An answer
// that is not ArcGIS JSON (an HTML page from a proxy, an empty or truncated
// body) is a *ResponseError with a short, secret-free snippet. Bad input is
// a *ValidationError, returned before any request is sent. A job that ends
// badly is a *JobError with the server's messages; errors.Is matches
// ErrJobFailed, ErrJobCancelled and ErrJobTimedOut.
//
// # Retries
//
// Reads (resources, job status, token requests) are retried after 500, 502,
// 503, 504 and dropped connections. Every call is retried after 429, 503
// with Retry-After, a connection that never opened, and the admin API's
// "another administrative operation is currently accessing the store"
// answer, because the server refused before acting. Refresh Service, start
// and stop change nothing when repeated and are retried like reads; so is
// an upload part, idempotent by its number. RetryPolicy.MaxRetries bounds
// all the attempts of one call, whatever their cause. Backoff is
// exponential with full jitter, honouring Retry-After up to
// RetryPolicy.MaxDelay.
//
// Other writes are never sent again blindly. When the answer of
// createService, createFolder or delete is lost (a gateway's 502, a dropped
// connection), the client reads back whether it took effect: done is
// success, not done is sent once more, and an unreadable state is an
// *OutcomeUnknownError (errors.Is ErrOutcomeUnknown) naming the service.
// GP submits, updateTiles, uploads and edits are sent at most once; a lost
// answer of a GP submit or updateTiles is an *OutcomeUnknownError saying
// where to look for the job.
//
// # Jobs
//
// Asynchronous work returns a *Job at once, so its ID can be stored and the
// job re-attached later (GP.Job, Services.RefreshJob, Services.PublishSDJob,
// Tiles.Job).
// Job.Wait polls with backoff (PollOptions), reports progress and new
// server messages through OnStatus, tolerates a few failed polls in a row,
// and stops when its context ends, optionally cancelling the server job.
// One poller serves geoprocessing jobs (esriJob* statuses) and hosted tile
// jobs (SUBMITTED, INPROGRESS, DONE, ...). WaitAll waits on many jobs at
// once with a fixed number of goroutines (WaitAllOptions), each on Wait's
// schedule, so thousands of jobs cost little memory.
//
// # Connections
//
// Without WithHTTPClient a Client uses DefaultTransport: at most 64
// connections to the site, however many calls and jobs are in flight.
//
// # Testing
//
// Package agstest is an in-memory ArcGIS Server for tests: start one with
// agstest.NewServer and point a Client at its URL.
//
// # Source layout
//
// One package, one file per room:
//
//   - client.go: Client, NewClient and the one request pipeline (Client.do);
//     ops.go the operations a call names; options.go the client's options;
//     retry.go RetryPolicy, DefaultTransport and the retry hook; decode.go
//     the one decoder of every answer and error envelope; errors.go every
//     error type and sentinel; redact.go secret masking; reconcile.go
//     OutcomeUnknownError and the read-back after a lost answer; auth.go
//     tokens.
//   - poll.go: Job, JobStatus, PollOptions and the one poll step;
//     jobstate.go JobState and the classifiers of each job family's
//     statuses; waitall.go WaitAll on top of it; gp.go the geoprocessing
//     job protocol.
//   - serviceref.go: ServiceRef and ParseServiceRef; services.go the admin
//     services calls; servicedef.go ServiceDefinition and its parts;
//     jsonobject.go the codec that keeps unknown fields; refresh.go Refresh
//     Service.
//   - uploads.go: uploaded items and a .sd's service configuration;
//     multipart.go the streamed upload body; publish.go Publish Service
//     Definition.
//   - tiles.go: hosted tile layers (updateTiles, tile jobs); tileadmin.go
//     deleteTiles, deleteAllTiles and rerun; scheme.go tiling schemes and
//     Estimate; cache.go Manage Map Cache Tiles and its resume;
//     cachetools.go the other caching tools (Create Map Cache, scales,
//     status, DeleteCache); geojson.go areas of interest from GeoJSON;
//     featureset.go feature sets; levels.go cache levels.
//   - validate.go: every identifier rule (names, folders, types, task paths,
//     job IDs); lenient.go the JSON readers that accept a number as a
//     string and the like; types.go shared wire types.
//
// Comments cite "REST-REFERENCE §N" for a wire fact: docs/REST-REFERENCE.md,
// which gives each fact's source (Esri's documentation, Esri's own
// clients, public captures), and testdata/fixtures for the recorded
// answers behind it.
package ags
