package ags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// UploadsService uploads files to the admin API (admin/uploads), such as a
// service definition to publish. Reach it as Client.Uploads.
//
// A file is streamed: however large, it costs the client a few buffers
// (plus one part, PartSize bytes, when a file that can be read only once
// goes in parts).
type UploadsService service

// Upload defaults.
const (
	// DefaultPartThreshold is the size from which Upload sends a file in
	// parts (register, uploadPart per part, commit) rather than in one
	// request.
	DefaultPartThreshold = 64 << 20
	// DefaultPartSize is the size of one part.
	DefaultPartSize = 8 << 20
)

// UploadItem is an uploaded item: admin/uploads/<itemID>, one entry of
// List, or the item an upload answered.
//
// https://developers.arcgis.com/rest/enterprise-administration/server/uploaditem.htm
type UploadItem struct {
	ItemID       string
	ItemName     string
	Description  string
	PathOnServer string
	// Date is when the item was uploaded; zero when the server's text could
	// not be read (it is kept in DateText).
	Date time.Time
	// DateText is the date as the server wrote it: Java's
	// "Mon Jun 13 12:59:59 PDT 2011" on ArcGIS Server, epoch milliseconds
	// on Enterprise on Kubernetes (fixtures admin-uploads-item-*.json).
	DateText    string
	Committed   bool
	ContentType string // Kubernetes only

	bare bool // the server answered only the ID
}

// uploadItemWire is the item as the server writes it.
type uploadItemWire struct {
	ItemID       string          `json:"itemID"`
	ItemName     string          `json:"itemName"`
	Description  *string         `json:"description"` // null on 10.1
	PathOnServer string          `json:"pathOnServer"`
	Date         json.RawMessage `json:"date"`
	Committed    lenientBool     `json:"committed"`
	ContentType  string          `json:"contentType"`
}

// UnmarshalJSON reads the item; an item that is a bare string is its ID
// (the current upload doc shows "item": "<id>", every Esri client reads
// item.itemID: fixture admin-uploads-upload-ok-doc.json).
func (it *UploadItem) UnmarshalJSON(b []byte) error {
	if s, ok := jsonString(b); ok {
		*it = UploadItem{ItemID: strings.TrimSpace(s), bare: true}
		return nil
	}
	var w uploadItemWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("upload item: %w", err)
	}
	*it = UploadItem{ItemID: w.ItemID, ItemName: w.ItemName, PathOnServer: w.PathOnServer,
		Committed: bool(w.Committed), ContentType: w.ContentType}
	if w.Description != nil {
		it.Description = *w.Description
	}
	it.Date, it.DateText = uploadDate(w.Date)
	return nil
}

// javaDate is the layout of Java's Date.toString, which ArcGIS Server uses
// for an upload's date ("Mon Jun 13 12:59:59 PDT 2011").
const javaDate = "Mon Jan 02 15:04:05 MST 2006"

// javaZones are the zone abbreviations Java's Date.toString may print
// whose offset is unambiguous. A date in another zone is not guessed: its
// Date stays zero (DateText keeps it).
var javaZones = map[string]int{
	"UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
	"EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "AEST": 10, "AEDT": 11,
}

// uploadDate reads a date sent as epoch milliseconds (a number or a
// numeric string) or as Java's Date text.
func uploadDate(raw json.RawMessage) (time.Time, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, ""
	}
	text := string(raw)
	if s, ok := jsonString(raw); ok {
		text = strings.TrimSpace(s)
	}
	var ms Time
	if err := ms.UnmarshalJSON(raw); err == nil {
		return ms.Time, text
	}
	f := strings.Fields(text)
	if len(f) != 6 {
		return time.Time{}, text
	}
	off, ok := javaZones[f[4]]
	if !ok {
		return time.Time{}, text
	}
	t, err := time.ParseInLocation(javaDate, strings.Join(append(f[:4:4], "UTC", f[5]), " "), time.UTC)
	if err != nil {
		return time.Time{}, text
	}
	return t.Add(-time.Duration(off) * time.Hour).In(time.FixedZone(f[4], off*3600)), text
}

// UploadOptions tune Upload. A nil *UploadOptions means all defaults.
type UploadOptions struct {
	// Description is sent with the file.
	Description string
	// Size is the file's size in bytes. When 0 it is found from the reader
	// (Stat, Len, or Seek); a reader of unknown size is sent in one
	// request, chunked.
	Size int64
	// Progress, if set, is called as the file is sent, with the bytes sent
	// so far and the size (-1 when unknown). After a part is repeated the
	// count goes back to where that part began.
	Progress func(sent, total int64)
	// PartThreshold is the size from which the file goes in parts; default
	// DefaultPartThreshold, negative: always in one request.
	PartThreshold int64
	// PartSize is the size of each part; default DefaultPartSize, at least
	// 64 KiB.
	PartSize int64
}

// uploadParams is the form of upload and register.
type uploadParams struct {
	Description string `url:"description,omitempty"`
}

type registerParams struct {
	ItemName    string `url:"itemName"`
	Description string `url:"description,omitempty"`
}

type partParams struct {
	PartNumber int `url:"partNumber"`
}

type commitParams struct {
	Parts string `url:"parts,omitempty"`
}

// uploadAnswer is the answer of upload and register.
type uploadAnswer struct {
	Item *UploadItem `json:"item"`
}

// checkAnswer accepts only an answer that names its item with an ID usable
// in a URL.
func (a *uploadAnswer) checkAnswer() error {
	if a.Item == nil || a.Item.ItemID == "" {
		return badAnswer("no item ID in the answer")
	}
	if validItemID(a.Item.ItemID) != nil {
		return badAnswer(fmt.Sprintf("item ID %q cannot be used in a URL", truncate(a.Item.ItemID, 80)))
	}
	return nil
}

// Upload uploads a file to the admin API and returns the new item.
//
// A file smaller than PartThreshold goes in one multipart POST of
// admin/uploads/upload (itemFile, description, f, and the token as a form
// field). A larger one goes in parts: POST admin/uploads/register (itemName,
// description), one multipart POST of admin/uploads/<id>/uploadPart per
// part (partFile, partNumber), then admin/uploads/<id>/commit. A part is
// repeated after a transient failure (an upload part is idempotent by its
// number); upload, register and commit are sent once and never repeated
// after the server may have acted. An item registered by a failed upload is
// deleted.
//
// name is the file name the server keeps (its extension matters: ".sd" for
// a service definition). r is read once, from where it stands; an
// *os.File, an io.ReaderAt or an io.ReadSeeker also lets a refused first
// attempt (429, a connection that never opened) be sent again.
//
// https://developers.arcgis.com/rest/enterprise-administration/server/uploaditem.htm
func (s *UploadsService) Upload(ctx context.Context, name string, r io.Reader, opts *UploadOptions) (*UploadItem, error) {
	var o UploadOptions
	if opts != nil {
		o = *opts
	}
	if err := validUploadName(name); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, invalid("reader", "must not be nil")
	}
	if o.Size < 0 {
		return nil, invalid("Size", "must not be negative")
	}
	switch {
	case o.PartSize == 0:
		o.PartSize = DefaultPartSize
	case o.PartSize < 64<<10:
		return nil, invalid("PartSize", "must be at least 64 KiB, got %d", o.PartSize)
	}
	if o.PartThreshold == 0 {
		o.PartThreshold = DefaultPartThreshold
	}
	size := o.Size
	if size == 0 {
		size = readerSize(r)
	}
	if o.PartThreshold > 0 && size >= o.PartThreshold {
		return s.uploadParts(ctx, name, r, size, o)
	}
	var src *bodySource
	switch v := r.(type) {
	case io.ReaderAt:
		base := int64(0)
		if sk, ok := r.(io.Seeker); ok {
			base, _ = sk.Seek(0, io.SeekCurrent)
		}
		if size >= 0 {
			src = sectionSource(v, base, size)
		} else {
			src = onceSource(r, -1)
		}
	case io.ReadSeeker:
		base, err := v.Seek(0, io.SeekCurrent)
		if err != nil || size < 0 {
			src = onceSource(r, size)
		} else {
			src = seekSource(v, base, size)
		}
	default:
		src = onceSource(r, size)
	}
	part := &filePart{field: "itemFile", filename: name, src: src}
	if o.Progress != nil {
		part.progress = func(n int64) { o.Progress(n, size) }
	}
	var ans uploadAnswer
	u := s.client.endpoint(rootAdmin, "uploads", "upload")
	if err := s.client.do(ctx, call{op: opUpload, method: http.MethodPost, url: u,
		params: uploadParams{Description: o.Description}, file: part}, &ans); err != nil {
		return nil, err
	}
	return answered(ans, "upload", name, o.Description), nil
}

// answered fills what a bare ID answer to an upload or register leaves
// out (decode has checked the ID).
func answered(ans uploadAnswer, op, name, description string) *UploadItem {
	it := ans.Item
	if it.ItemName == "" {
		it.ItemName = name
	}
	if it.Description == "" {
		it.Description = description
	}
	if op == "upload" && it.bare {
		it.Committed = true // a one-request upload is complete
	}
	return it
}

// uploadParts sends a file in parts. The undocumented details are marked
// [I] in REST-REFERENCE §8: uploadPart's answer (only an error envelope is
// looked for) and the format of commit's parts list (sent as the part
// numbers "1,2,3", as the 10.1 doc example shows; a newer example lists
// names such as "Test.sd.1").
func (s *UploadsService) uploadParts(ctx context.Context, name string, r io.Reader, size int64, o UploadOptions) (item *UploadItem, err error) {
	var ans uploadAnswer
	regURL := s.client.endpoint(rootAdmin, "uploads", "register")
	if err := s.client.do(ctx, call{op: opRegister, method: http.MethodPost, url: regURL,
		params: registerParams{ItemName: name, Description: o.Description}}, &ans); err != nil {
		return nil, err
	}
	it := answered(ans, "register", name, o.Description)
	defer func() {
		if err != nil {
			err = s.cleanup(ctx, it.ItemID, err)
		}
	}()
	partURL := s.client.endpoint(rootAdmin, "uploads", it.ItemID, "uploadPart")
	ra, isAt := r.(io.ReaderAt)
	base := int64(0)
	if sk, ok := r.(io.Seeker); ok && isAt {
		base, _ = sk.Seek(0, io.SeekCurrent)
	}
	var buf []byte
	var parts []string
	for off, n := int64(0), 1; off < size; off, n = off+o.PartSize, n+1 {
		ln := min(o.PartSize, size-off)
		var src *bodySource
		if isAt {
			src = sectionSource(ra, base+off, ln)
		} else {
			// One part in memory, so that it can be sent again.
			if buf == nil {
				buf = make([]byte, o.PartSize)
			}
			if _, err := io.ReadFull(r, buf[:ln]); err != nil {
				return nil, fmt.Errorf("upload %s: read part %d: %w", name, n, err)
			}
			src = bytesSource(buf[:ln])
		}
		part := &filePart{field: "partFile", filename: name + "." + strconv.Itoa(n), src: src}
		if o.Progress != nil {
			at := off
			part.progress = func(k int64) { o.Progress(at+k, size) }
		}
		if err := s.client.do(ctx, call{op: opUploadPart, scope: "upload " + it.ItemID + " part " + strconv.Itoa(n), method: http.MethodPost, url: partURL,
			params: partParams{PartNumber: n}, file: part, idempotent: true}, nil); err != nil {
			return nil, err
		}
		parts = append(parts, strconv.Itoa(n))
	}
	if !isAt {
		// A reader with more than size bytes would be cut short silently.
		if k, _ := io.ReadFull(r, make([]byte, 1)); k > 0 {
			return nil, invalid("Size", "the reader holds more than %d bytes", size)
		}
	}
	commitURL := s.client.endpoint(rootAdmin, "uploads", it.ItemID, "commit")
	if err := s.client.do(ctx, call{op: opCommit, scope: "upload " + it.ItemID, method: http.MethodPost, url: commitURL,
		params: commitParams{Parts: strings.Join(parts, ",")}}, nil); err != nil {
		return nil, err
	}
	it.Committed = true
	return it, nil
}

// cleanupTimeout bounds the deletion of an item after a failure; it runs
// even when ctx has ended (the failure may be ctx's own).
const cleanupTimeout = 30 * time.Second

// cleanup deletes item after err and returns err, noting a failed
// deletion in the text (the item then stays on the server).
func (s *UploadsService) cleanup(ctx context.Context, itemID string, err error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if derr := s.Delete(dctx, itemID); derr != nil && !errors.Is(derr, ErrNotFound) {
		return &cleanupError{err: err, itemID: itemID, cleanup: derr}
	}
	return err
}

// cleanupError is a failure after which an uploaded item could not be
// deleted. It unwraps to the failure.
type cleanupError struct {
	err     error
	itemID  string
	cleanup error
}

func (e *cleanupError) Error() string {
	return fmt.Sprintf("%v (and the uploaded item %s could not be deleted: %v)", e.err, e.itemID, e.cleanup)
}

func (e *cleanupError) Unwrap() error { return e.err }

// Get returns an uploaded item: admin/uploads/<itemID>.
// https://developers.arcgis.com/rest/enterprise-administration/server/uploaditem.htm
func (s *UploadsService) Get(ctx context.Context, itemID string) (*UploadItem, error) {
	if err := validItemID(itemID); err != nil {
		return nil, err
	}
	var ans uploadItemAnswer
	u := s.client.endpoint(rootAdmin, "uploads", itemID)
	if err := s.client.do(ctx, call{op: opItem, scope: "upload " + itemID, method: http.MethodGet, url: u, idempotent: true}, &ans); err != nil {
		return nil, err
	}
	return &ans.UploadItem, nil
}

// uploadItemAnswer is an item resource, which must name its item.
type uploadItemAnswer struct{ UploadItem }

func (a *uploadItemAnswer) checkAnswer() error {
	if a.ItemID == "" {
		return badAnswer("no itemID in the answer")
	}
	return nil
}

// uploadsAnswer is the uploads resource, which must list its items (an
// empty list included).
type uploadsAnswer struct {
	Items *[]UploadItem `json:"items"`
}

func (a *uploadsAnswer) checkAnswer() error {
	if a.Items == nil {
		return badAnswer(`no "items" in the answer`)
	}
	return nil
}

// List returns the uploaded items: admin/uploads ({"items": [...]}).
// https://developers.arcgis.com/rest/enterprise-administration/server/uploads.htm
func (s *UploadsService) List(ctx context.Context) ([]UploadItem, error) {
	var out uploadsAnswer
	u := s.client.endpoint(rootAdmin, "uploads")
	if err := s.client.do(ctx, call{op: opUploads, method: http.MethodGet, url: u, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return *out.Items, nil
}

// Delete deletes an uploaded item: POST admin/uploads/<itemID>/delete.
// Deleting twice is harmless, so the call is retried like a read.
// https://developers.arcgis.com/rest/enterprise-administration/server/deleteitem.htm
func (s *UploadsService) Delete(ctx context.Context, itemID string) error {
	if err := validItemID(itemID); err != nil {
		return err
	}
	u := s.client.endpoint(rootAdmin, "uploads", itemID, "delete")
	return s.client.do(ctx, call{op: opDelete, scope: "upload " + itemID, method: http.MethodPost, url: u, idempotent: true}, nil)
}

// validUploadName checks the file name sent with an upload: a base name,
// one line, with an extension.
func validUploadName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("name", "must not be empty")
	case strings.ContainsAny(name, "/\\\"") || strings.ContainsFunc(name, isControl):
		return invalid("name", "%q must be a file name without folders, quotes or control characters", name)
	case path.Ext(name) == "":
		return invalid("name", "%q needs an extension (the server keeps it: .sd for a service definition)", name)
	}
	return nil
}

// readerSize finds how many bytes r has left: from Stat (an *os.File),
// Len (bytes and strings readers) or Seek; -1 when it cannot tell.
func readerSize(r io.Reader) int64 {
	type stater interface{ Stat() (fs.FileInfo, error) }
	type lener interface{ Len() int }
	switch v := r.(type) {
	case lener:
		return int64(v.Len())
	case stater:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		if sk, ok := r.(io.Seeker); ok {
			if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
				return max(fi.Size()-pos, 0)
			}
		}
		return fi.Size()
	case io.Seeker:
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		end, err := v.Seek(0, io.SeekEnd)
		if err != nil {
			return -1
		}
		if _, err := v.Seek(pos, io.SeekStart); err != nil {
			return -1
		}
		return end - pos
	}
	return -1
}

// ServiceConfiguration is an uploaded service definition's
// serviceconfiguration.json: the folder and the service it publishes.
// Fields it does not name are kept in Extra and sent back unchanged.
type ServiceConfiguration struct {
	FolderName string // "" for the root folder
	Service    ServiceDefinition
	Extra      map[string]json.RawMessage
}

// UnmarshalJSON reads {"folderName": ..., "service": {...}, ...}.
func (c *ServiceConfiguration) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("service configuration: %w", err)
	}
	if top == nil {
		return errors.New("service configuration: not an object")
	}
	var out ServiceConfiguration
	if raw, ok := top["folderName"]; ok {
		out.FolderName = normFolder(rawText(raw))
		delete(top, "folderName")
	}
	raw, ok := top["service"]
	if !ok || isNull(raw) {
		return errors.New(`service configuration: no "service"`)
	}
	if err := json.Unmarshal(raw, &out.Service); err != nil {
		return fmt.Errorf("service configuration: %w", err)
	}
	delete(top, "service")
	if len(top) > 0 {
		out.Extra = top
	}
	*c = out
	return nil
}

// MarshalJSON writes the configuration with sorted keys.
func (c ServiceConfiguration) MarshalJSON() ([]byte, error) {
	top := make(map[string]json.RawMessage, len(c.Extra)+2)
	for k, v := range c.Extra {
		top[k] = v
	}
	var err error
	if top["folderName"], err = json.Marshal(normFolder(c.FolderName)); err != nil {
		return nil, err
	}
	if top["service"], err = json.Marshal(c.Service); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// Ref returns the service the configuration publishes.
func (c *ServiceConfiguration) Ref() ServiceRef {
	return ServiceRef{Folder: c.FolderName, Name: c.Service.ServiceName, Type: c.Service.Type}
}

// ServiceConfiguration reads an uploaded service definition's
// configuration: admin/uploads/<itemID>/serviceconfiguration.json
// (what Esri's Python API reads before publishing; REST-REFERENCE §8).
func (s *UploadsService) ServiceConfiguration(ctx context.Context, itemID string) (*ServiceConfiguration, error) {
	if err := validItemID(itemID); err != nil {
		return nil, err
	}
	var cfg ServiceConfiguration
	u := s.client.endpoint(rootAdmin, "uploads", itemID, "serviceconfiguration.json")
	if err := s.client.do(ctx, call{op: opServiceConfig, scope: "upload " + itemID, method: http.MethodGet, url: u, idempotent: true}, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}
