package agstest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mapServiceJSON = `{"serviceName":"Roads","type":"MapServer","description":"roads",` +
	`"capabilities":"Map,Query,Data","clusterName":"default","maxWaitTime":90,` +
	`"properties":{"maxRecordCount":"1000","isCached":"false","filePath":"\\\\machine\\data\\roads.msd"},` +
	`"frameworkProperties":[],"customField":{"nested":[1,2.50,"x"]},"bigNumber":12345678901234567890}`

func TestAdminListing(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	srv.AddService("", "World", "MapServer", map[string]any{"description": "world map"})

	r := c.get("/admin/services", nil)
	assert.Equal(t, "/", r.body["folderName"])
	assert.Equal(t, []any{"System", "Utilities"}, r.body["folders"])
	details := r.body["foldersDetail"].([]any)
	require.Len(t, details, 2)
	assert.Equal(t, map[string]any{"folderName": "System", "description": "Reserved for system services", "webEncrypted": false, "isDefault": true}, details[0])
	assert.Equal(t, []any{map[string]any{"folderName": "/", "serviceName": "World", "type": "MapServer", "description": "world map"}}, r.body["services"])

	r = c.get("/admin/services/System", nil)
	assert.Equal(t, "System", r.body["folderName"])
	names := []string{}
	for _, s := range r.body["services"].([]any) {
		m := s.(map[string]any)
		assert.Equal(t, "System", m["folderName"])
		names = append(names, m["serviceName"].(string)+"."+m["type"].(string))
	}
	assert.Equal(t, []string{"CachingControllers.GPServer", "CachingTools.GPServer", "PublishingTools.GPServer"}, names)

	r = c.get("/admin/services/Nope", nil)
	code, msgs := adminErr(t, r)
	assert.Equal(t, 404, code)
	assert.Equal(t, []string{"Could not find resource or operation 'Nope' on the system."}, msgs)
}

func TestAdminCreateService(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)

	r := c.post("/admin/services/createFolder", url.Values{"folderName": {"Roads"}, "description": {"Road data"}})
	requireShape(t, "admin-success", r.body)
	r = c.post("/admin/services/createFolder", url.Values{"folderName": {"Roads"}})
	code, msgs := adminErr(t, r)
	assert.Equal(t, 400, code)
	assert.Equal(t, []string{"Folder 'Roads' already exists."}, msgs)

	// canCreateService before and after.
	r = c.post("/admin/services/canCreateService", url.Values{"folderName": {"Roads"}, "service": {mapServiceJSON}})
	assert.Equal(t, map[string]any{"createService": true}, r.body)

	r = c.post("/admin/services/Roads/createService", url.Values{"service": {mapServiceJSON}})
	requireShape(t, "admin-success", r.body)
	assert.Equal(t, loadFixture(t, "admin-success"), any(r.body))

	r = c.post("/admin/services/canCreateService", url.Values{"folderName": {"Roads"}, "service": {mapServiceJSON}})
	assert.Equal(t, map[string]any{"createService": false}, r.body)
	r = c.post("/admin/services/canCreateService", url.Values{"folderName": {"Roads"}, "serviceType": {"MapServer"}})
	assert.Equal(t, map[string]any{"createService": true}, r.body)
	r = c.post("/admin/services/canCreateService", url.Values{"folderName": {"Roads"}})
	code, _ = adminErr(t, r)
	assert.Equal(t, 400, code)

	// Duplicate in the same folder; the same name at the root is fine.
	r = c.post("/admin/services/Roads/createService", url.Values{"service": {mapServiceJSON}})
	code, msgs = adminErr(t, r)
	assert.Equal(t, 400, code)
	assert.Equal(t, []string{"Service 'Roads/Roads.MapServer' already exists."}, msgs)
	r = c.post("/admin/services/createService", url.Values{"service": {mapServiceJSON}})
	assert.Equal(t, "success", r.body["status"])

	// The stored JSON keeps every field exactly, plus server defaults.
	r = c.get("/admin/services/Roads/Roads.MapServer", nil)
	assert.Contains(t, string(r.raw), `"bigNumber":12345678901234567890`)
	assert.Contains(t, string(r.raw), `"customField":{"nested":[1,2.50,"x"]}`)
	assert.Equal(t, "STARTED", r.body["configuredState"])
	assert.Equal(t, 90.0, r.body["maxWaitTime"])
	assert.Equal(t, 2.0, r.body["maxInstancesPerNode"])
	assert.Equal(t, map[string]any{"maxRecordCount": "1000", "isCached": "false", "filePath": `\\machine\data\roads.msd`}, r.body["properties"])
	assert.Equal(t, []any{}, r.body["frameworkProperties"])

	def, ok := srv.Service("Roads", "Roads", "MapServer")
	require.True(t, ok)
	assert.Equal(t, "roads", def["description"])
	assert.Equal(t, 90.0, def["maxWaitTime"])

	// Listing of the folder.
	r = c.get("/admin/services/Roads", nil)
	assert.Equal(t, "Road data", r.body["description"])
	assert.Equal(t, []any{map[string]any{"folderName": "Roads", "serviceName": "Roads", "type": "MapServer", "description": "roads"}}, r.body["services"])
}

func TestAdminCreateServiceErrors(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)

	r := c.post("/admin/services/createService", url.Values{"service": {"None"}})
	requireShape(t, "admin-error-createsite-500", r.body)
	assert.Equal(t, loadFixture(t, "admin-error-createsite-500"), any(r.body))

	r = c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"X",`}})
	code, _ := adminErr(t, r)
	assert.Equal(t, 500, code)

	r = c.post("/admin/services/createService", url.Values{"service": {`{"type":"MapServer"}`}})
	code, msgs := adminErr(t, r)
	assert.Equal(t, 400, code)
	assert.Contains(t, msgs[0], "serviceName")

	r = c.post("/admin/services/createService", url.Values{"service": {`{"serviceName":"X"}`}})
	code, msgs = adminErr(t, r)
	assert.Equal(t, 400, code)
	assert.Contains(t, msgs[0], "type")

	r = c.post("/admin/services/Missing/createService", url.Values{"service": {`{"serviceName":"X","type":"MapServer"}`}})
	code, msgs = adminErr(t, r)
	assert.Equal(t, 404, code)
	assert.Equal(t, []string{"Folder 'Missing' does not exist."}, msgs)

	// Operations are POST only.
	r = c.get("/admin/services/createService", url.Values{"service": {`{"serviceName":"X","type":"MapServer"}`}})
	code, _ = adminErr(t, r)
	assert.Equal(t, 405, code)
	_, ok := srv.Service("", "X", "MapServer")
	assert.False(t, ok)
}

func TestAdminServiceLifecycle(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)
	srv.AddService("Hosted", "Parcels", "MapServer", map[string]any{"description": "p", "extra": map[string]any{"a": 1}})
	base := "/admin/services/Hosted/Parcels.MapServer"

	r := c.get(base+"/status", nil)
	requireShape(t, "admin-service-status", r.body)
	assert.Equal(t, loadFixture(t, "admin-service-status"), any(r.body))

	requireShape(t, "admin-success", c.post(base+"/stop", nil).body)
	r = c.get(base+"/status", nil)
	assert.Equal(t, map[string]any{"configuredState": "STOPPED", "realTimeState": "STOPPED"}, r.body)
	def, _ := srv.Service("Hosted", "Parcels", "MapServer")
	assert.Equal(t, "STOPPED", def["configuredState"])

	requireShape(t, "admin-success", c.post(base+"/start", nil).body)
	assert.Equal(t, "STARTED", c.get(base+"/status", nil).body["realTimeState"])

	// edit replaces the JSON; name and type cannot change.
	r = c.post(base+"/edit", url.Values{"service": {`{"serviceName":"Parcels","type":"MapServer","description":"edited","maxWaitTime":5}`}})
	requireShape(t, "admin-success", r.body)
	def, _ = srv.Service("Hosted", "Parcels", "MapServer")
	assert.Equal(t, "edited", def["description"])
	assert.NotContains(t, def, "extra")
	assert.Equal(t, 5.0, def["maxWaitTime"])
	r = c.post(base+"/edit", url.Values{"service": {`{"serviceName":"Other","type":"MapServer"}`}})
	code, _ := adminErr(t, r)
	assert.Equal(t, 400, code)

	// startServices / stopServices echo the list.
	list := `[{"folderName":"","serviceName":"SampleWorldCities","type":"MapServer"},{"folderName":"Planning","serviceName":"FireHydrants","type":"FeatureServer"}]`
	srv.AddService("", "SampleWorldCities", "MapServer", nil)
	srv.AddService("Planning", "FireHydrants", "FeatureServer", nil)
	r = c.post("/admin/services/stopServices", url.Values{"services": {list}})
	requireShape(t, "admin-startservices-ok", r.body)
	assert.Equal(t, loadFixture(t, "admin-startservices-ok"), any(r.body))
	assert.Equal(t, "STOPPED", c.get("/admin/services/Planning/FireHydrants.FeatureServer/status", nil).body["realTimeState"])
	r = c.post("/admin/services/startServices", url.Values{"services": {list}})
	requireShape(t, "admin-startservices-ok", r.body)
	assert.Equal(t, "STARTED", c.get("/admin/services/SampleWorldCities.MapServer/status", nil).body["realTimeState"])
	r = c.post("/admin/services/startServices", url.Values{"services": {`[{"folderName":"","serviceName":"Nope","type":"MapServer"}]`}})
	code, _ = adminErr(t, r)
	assert.Equal(t, 404, code)

	// delete
	requireShape(t, "admin-success", c.post(base+"/delete", nil).body)
	r = c.get(base, nil)
	code, msgs := adminErr(t, r)
	assert.Equal(t, 404, code)
	assert.Equal(t, []string{"Could not find resource or operation 'Hosted/Parcels.MapServer' on the system."}, msgs)
	code, _ = adminErr(t, c.post(base+"/start", nil))
	assert.Equal(t, 404, code)
}

func TestUnknownPathsAndFormats(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := login(t, srv)

	r := c.get("/rest/nothing/here", nil)
	assert.Equal(t, http.StatusOK, r.status)
	code, _, _ := restErr(t, r)
	assert.Equal(t, 404, code)

	// A missing service in the services directory: code 500, as recorded.
	r = c.get("/rest/services/Hosted/NOPE_Layer/MapServer", nil)
	requireShape(t, "rest-error-500-service-not-found", r.body)
	code, msg, _ := restErr(t, r)
	assert.Equal(t, 500, code)
	assert.Equal(t, "Service Hosted/NOPE_Layer/MapServer not found ", msg)

	r = c.get("/admin/nothing", nil)
	assert.Equal(t, http.StatusOK, r.status)
	code, _ = adminErr(t, r)
	assert.Equal(t, 404, code)

	r = c.get("/admin/services/System/PublishingTools.GPServer/bogus", nil)
	code, _ = adminErr(t, r)
	assert.Equal(t, 404, code)

	// Unknown f still answers JSON; pjson is indented.
	r = c.get("/admin/services", url.Values{"f": {"html"}})
	assert.Equal(t, "/", r.body["folderName"])
	r = c.get("/admin/services", url.Values{"f": {"pjson"}})
	assert.True(t, strings.Contains(string(r.raw), "\n  \""), "pjson: %s", r.raw)

	// The catalog lists folders and root services.
	srv.AddService("", "Base", "MapServer", nil)
	r = c.get("/rest/services", nil)
	assert.Equal(t, []any{"System", "Utilities"}, r.body["folders"])
	assert.Equal(t, []any{map[string]any{"name": "Base", "type": "MapServer"}}, r.body["services"])
	r = c.get("/rest/services/System/PublishingTools/GPServer", nil)
	assert.Equal(t, []any{"Publish Service Definition", "Refresh Service"}, r.body["tasks"])
}

func TestServiceReturnsCopy(t *testing.T) {
	t.Parallel()
	srv := start(t)
	in := map[string]any{"properties": map[string]any{"k": "v"}}
	srv.AddService("", "A", "MapServer", in)
	in["properties"].(map[string]any)["k"] = "changed"
	def, ok := srv.Service("/", "A", "MapServer")
	require.True(t, ok)
	def["properties"].(map[string]any)["k"] = "mutated"
	def2, _ := srv.Service("", "A", "MapServer")
	assert.Equal(t, map[string]any{"k": "v"}, def2["properties"])
	b, err := json.Marshal(def2)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"serviceName":"A"`)
}

// TestCanCreateStatusShape: WithCanCreateAnswer(CanCreateStatus) answers
// {"status":"success"} when the service can be created and an admin error
// envelope when it cannot.
func TestCanCreateStatusShape(t *testing.T) {
	srv := start(t, WithCanCreateAnswer(CanCreateStatus))
	c := login(t, srv)
	r := c.post("/admin/services/canCreateService", url.Values{"service": {mapServiceJSON}})
	requireShape(t, "admin-success", r.body)
	assert.Equal(t, loadFixture(t, "admin-success"), any(r.body))

	r = c.post("/admin/services/createService", url.Values{"service": {mapServiceJSON}})
	requireShape(t, "admin-success", r.body)
	r = c.post("/admin/services/canCreateService", url.Values{"service": {mapServiceJSON}})
	requireShape(t, "admin-error-404-service-not-found", r.body)
	code, msgs := adminErr(t, r)
	assert.Equal(t, 400, code)
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "cannot be created")
}

// TestBodyTokensOnly: with WithBodyTokensOnly a token only in a header is
// no token (499, in the path's envelope); in the form body it is read,
// reads included.
func TestBodyTokensOnly(t *testing.T) {
	srv := start(t, WithBodyTokensOnly())
	c := login(t, srv)

	r := c.get("/admin/services", nil) // token in the header only
	requireShape(t, "admin-error-499", r.body)
	code, _ := adminErr(t, r)
	assert.Equal(t, 499, code)
	r = c.get("/rest/services", nil)
	requireShape(t, "error-499-token-required", r.body)

	r = c.post("/admin/services", nil) // token in the body too
	assert.Equal(t, "/", r.body["folderName"], "%s", r.raw)
	r = c.post("/rest/services", nil)
	assert.NotNil(t, r.body["services"], "%s", r.raw)

	// Without the option the header is enough.
	plain := login(t, start(t))
	r = plain.get("/admin/services", nil)
	assert.Equal(t, "/", r.body["folderName"], "%s", r.raw)
}
