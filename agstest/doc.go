// Package agstest provides an in-memory ArcGIS Server for tests, in the way
// net/http/httptest provides an HTTP server: start one, point a client at
// its URL, and check what the client did.
//
// The server speaks the wire formats of ArcGIS Server 11.x for the parts an
// administration and publishing client uses:
//
//   - rest/info and token generation (tokens/generateToken and
//     admin/generateToken), with tokens that expire, may be bound to a
//     Referer, and are accepted from the form body, the query string or
//     (unless WithBodyTokensOnly) the X-Esri-Authorization or
//     Authorization header; admin POSTs read the body only;
//   - the Server Administrator API for services: folder listings,
//     createFolder, createService, canCreateService, service JSON, status,
//     start, stop, edit, delete, startServices and stopServices;
//   - geoprocessing jobs: submitJob, job status with messages and progress,
//     results, inputs and cancel, for the built-in
//     System/PublishingTools/GPServer/Refresh Service task, the caching
//     tasks (Create Map Cache, Manage Map Cache Tiles on CachingTools and
//     CachingControllers, Manage Map Cache Scales, Manage Map Cache Status,
//     DeleteCache) and any task registered with RegisterTask;
//   - the services directory's description of a map or image service, with
//     its tileInfo when the service is cached;
//   - uploads (admin/uploads: one-request and part uploads, counted rather
//     than kept; item, list, delete, serviceconfiguration.json),
//     admin/services/exists, and the System/PublishingTools/GPServer/Publish
//     Service Definition task, which creates the service from the upload
//     (SetSDConfiguration, FailPublish, AddPublishingToolsEx, FakeSD);
//   - hosted tile jobs under rest/admin/services/<name>/MapServer:
//     updateTiles, deleteTiles, deleteAllTiles, the job summary, job
//     statistics, cancel and rerun, on a service with a tiling scheme
//     (SetTileScheme, e.g. WebMercatorScheme): a hosted tile layer always
//     has one, and a service without one is refused.
//
// Errors come back the way a real site sends them: HTTP 200 with the REST
// envelope {"error":{"code":N,"message":...,"details":[...]}} under rest/
// and tokens/, and the admin envelope {"status":"error","messages":[...],
// "code":N} under admin/. A missing service in the services directory
// answers code 500, "Service <path> not found " (trailing space included),
// and a missing admin resource code 404, "Could not find resource or
// operation '…' on the system.", both as recorded.
//
// # Recorded and invented
//
// The answers have the shapes of the recorded ones in the module's
// testdata/fixtures (documentation examples and captures, each with its
// source in SOURCES.md); the module's tests decode the emulator's answer to
// each operation next to the recorded one and require the same result and
// the same keys. Where nothing is recorded, the emulator invents, and says
// so where it does:
//
//   - the wording of refusals: a duplicate service or folder ("… already
//     exists."), a missing parameter, a canCreateService refusal, a GP
//     parameter error, a missing folder of the services directory (code
//     404) or GP task or job, a tile operation on a service without a
//     tiling scheme;
//   - canCreateService's answer: {"createService": bool} by default, or
//     {"status": "success"} and an admin error envelope with
//     WithCanCreateAnswer(CanCreateStatus): Esri's page does not show it,
//     and clients read both;
//   - the output parameter names and values of the built-in tasks (the
//     cache task's output name is unconfirmed), job messages and progress
//     timing, tile job statistics' numbers;
//   - which requests fail: tokens, faults and FailJobs are this emulator's
//     model, not a server's.
//
// # Example
//
//	func TestPublish(t *testing.T) {
//		// NewTLSServer serves HTTPS; its Client trusts its certificate.
//		// (NewServer serves plain http: the client then needs
//		// ags.WithInsecureHTTP to send credentials to it.)
//		srv := agstest.NewTLSServer(agstest.WithJobDuration(50 * time.Millisecond))
//		defer srv.Close()
//		c, err := ags.NewClient(srv.URL(),
//			ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword),
//			ags.WithHTTPClient(srv.Client()))
//		if err != nil {
//			t.Fatal(err)
//		}
//
//		if err := publishRoads(t.Context(), c); err != nil { // the code under test
//			t.Fatal(err)
//		}
//
//		if _, ok := srv.Service("", "Roads", "MapServer"); !ok {
//			t.Fatal("service not created")
//		}
//		for _, r := range srv.Requests() {
//			if r.TokenInQuery {
//				t.Errorf("%s %s sent the token in the URL", r.Method, r.Path)
//			}
//		}
//	}
//
//	// publishRoads is the code under test.
//	func publishRoads(ctx context.Context, c *ags.Client) error {
//		return c.Services.Create(ctx, "", ags.ServiceDefinition{ServiceName: "Roads", Type: ags.MapServer,
//			Properties: ags.ServiceProperties{"filePath": `\\share\roads.mapx`}})
//	}
//
// The ExampleNewServer example shows the raw HTTP exchange.
//
// # Defaults
//
//   - One user: DefaultUsername ("admin") with DefaultPassword
//     ("admin-secret"). WithUser replaces it and may be given several times.
//   - Tokens live for the requested expiration (minutes, at most 1440) or
//     60 minutes; WithTokenLifetime fixes the lifetime whatever is
//     requested. WithoutAuth turns token checks off.
//   - Jobs take 300 ms (WithJobDuration; per job, WithJobDurations, and
//     JobEnd tells when one ends): a job is submitted for the first
//     10% of that time, then executing with progress rising linearly, then
//     succeeded or failed. Job state is computed from the clock when it is
//     read, so the server starts no goroutine or timer per job.
//   - The clock is time.Now; WithClock substitutes another, which lets a test
//     step a job through every state and expire tokens without sleeping.
//   - Job IDs, tokens and fault choices come from a random source seeded
//     from the time; WithSeed makes them repeatable.
//   - The site starts with the folders System and Utilities and the
//     System/PublishingTools, System/CachingTools and
//     System/CachingControllers GP services.
//
// # Knobs
//
//   - AddService seeds a service; Service returns its JSON as stored.
//   - RegisterTask adds a GP task whose TaskHandler computes its results when
//     a job completes; FailJobs makes chosen GP and tile jobs fail.
//   - SetTileScheme makes a service cached (WebMercatorScheme builds the
//     ArcGIS Online scheme); cache jobs then count the tiles of their extent
//     per level from the scheme, keep which tiles are built (TileCount), and
//     RECREATE_EMPTY_TILES and reruns build only the missing ones. An
//     updateTiles or deleteTiles extent in WGS84 (4326) is converted to a
//     Web Mercator scheme; one in any other spatial reference than the
//     scheme's is refused as an invalid extent (an invention: the real
//     server's answer there is not recorded). DeleteCache, like the other
//     caching tools, fails on a service without a cache. FailTiles
//     makes the next job fail every second tile of chosen levels, so it ends
//     PARTIALERROR (tile jobs) or failed (GP) with per-level failures.
//   - WithFaults and SetFaults inject an HTML 502 page from a failing
//     gateway on a share of answers (before the site acts, or after it, so
//     the answer of a carried-out operation is lost), latency before every
//     answer, a site that is down (connections closed without an answer),
//     and "the store is busy" refusals of admin operations (the next N, or
//     a share). With WithClock the test drives time: token expiry, job
//     progress, and clock skew against the client.
//   - InvalidateTokens revokes every token at once, as a restart does.
//   - WithBodyTokensOnly ignores tokens in headers (a 499 for a token sent
//     only there), as a server that does not honour X-Esri-Authorization.
//   - WithCanCreateAnswer chooses the canCreateService answer's shape.
//   - Requests returns the request log with tokens and passwords masked,
//     including whether a token was sent in the URL query; Count counts
//     requests by path suffix.
package agstest
