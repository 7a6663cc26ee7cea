package handlers

import (
	"net/http"
	"strconv"
	"time"

	"http_server/protocol"
)

// serveFile answers GET and HEAD for a static file in modern mode: validators,
// conditional requests (RFC 9110 section 13) and single ranges (section 14).
// The body leaves with sendfile from the descriptor opened here, or, for a
// small file, from its bytes (read here, or kept by the small-file cache).
func (rt *Router) serveFile(req *protocol.Request, out *protocol.Batch) {
	var listBuf [128]byte
	accept, mayEncode := req.ListValue("accept-encoding", listBuf[:0])
	rules := Rules{Index: true, Dotfiles: rt.cfg.Dotfiles, Compressing: mayEncode && rt.cfg.Compression.enabled()}
	f, status, loc := rt.cfg.Files.Open(req.Path, rules)
	switch status {
	case 0:
	case 301:
		rt.redirect(req, out, loc)
		return
	default:
		rt.fail(req, out, status)
		return
	}

	rep, status := rt.choose(req, &f, accept, mayEncode)
	switch status {
	case 0:
	case 406:
		f.Release()
		rt.enc.Error(out, req, 406, varyAcceptEncoding)
		return
	default:
		rt.fail(req, out, status)
		return
	}
	if rep.body == nil && f.Unopened() {
		if status := rt.cfg.Files.Reopen(&f); status != 0 {
			rt.fail(req, out, status)
			return
		}
	}

	var etagBuf [80]byte
	v := protocol.Validators{
		ETag:         protocol.AppendETag(etagBuf[:0], f.Size, f.MtimeNs, f.Ino),
		LastModified: time.Unix(f.MtimeNs/1e9, 0).UTC(),
	}
	extra := out.Scratch[:0]
	if rep.body != nil {
		v.ETag = compressedETag(etagBuf[:0], &f, rep.coding)
	} else {
		extra = append(extra, "Accept-Ranges: bytes\r\n"...)
	}
	extra = append(extra, "ETag: "...)
	extra = append(extra, v.ETag...)
	extra = append(extra, "\r\nLast-Modified: "...)
	extra = v.LastModified.AppendFormat(extra, http.TimeFormat)
	extra = append(extra, "\r\nX-Content-Type-Options: nosniff\r\n"...)
	if rep.coding != "" {
		extra = append(extra, "Content-Encoding: "...)
		extra = append(extra, rep.coding...)
		extra = append(extra, "\r\n"...)
	}
	if rep.vary {
		extra = append(extra, "Vary: Accept-Encoding\r\n"...)
	}
	defer func() { out.Scratch = extra[:0] }()

	switch protocol.Preconditions(req, &v) {
	case 304:
		f.Release()
		rt.enc.Encode(out, req, &protocol.Reply{Status: 304, Bodiless: true, Extra: extra})
		return
	case 412:
		f.Release()
		rt.fail(req, out, 412)
		return
	}

	if rep.body != nil {
		// A Range on a copy compressed here is ignored (RFC 9110 14.2
		// allows it): the whole copy goes with 200, so that a client
		// resuming a download it began in another form starts over
		// instead of splicing two forms.
		f.Release()
		rt.cfg.Compression.counted(req, &rep, 200, int64(len(rep.body)))
		rt.enc.Encode(out, req, &protocol.Reply{Status: 200, ContentType: f.ContentType, Body: rep.body, Extra: extra})
		return
	}
	reply := protocol.Reply{Status: 200, ContentType: f.ContentType, HasFile: true,
		File: protocol.FileSegment{Fd: f.Fd, Off: 0, Len: f.Size}}
	if spec, ok := req.HeaderValue("range"); ok && req.IsMethod("GET") && protocol.RangeApplies(req, &v) {
		var rangeBuf [protocol.MaxRanges]protocol.ByteRange
		ranges, res := protocol.ParseRange(spec, f.Size, rangeBuf[:0])
		switch res {
		case protocol.RangeUnsatisfiable:
			f.Release()
			extra = append(extra, "Content-Range: bytes */"...)
			extra = strconv.AppendInt(extra, f.Size, 10)
			extra = append(extra, "\r\n"...)
			rt.enc.Encode(out, req, &protocol.Reply{Status: 416, ContentType: textPlain,
				Body: []byte("Range Not Satisfiable\n"), Extra: extra})
			return
		case protocol.RangeOK:
			// Several ranges that stay apart after coalescing get the whole
			// file with 200, which RFC 9110 allows; one range gets 206.
			if ranges = protocol.Coalesce(ranges); len(ranges) == 1 {
				r := ranges[0]
				reply.Status = 206
				reply.File.Off, reply.File.Len = r.Start, r.Len
				extra = append(extra, "Content-Range: bytes "...)
				extra = strconv.AppendInt(extra, r.Start, 10)
				extra = append(extra, '-')
				extra = strconv.AppendInt(extra, r.Start+r.Len-1, 10)
				extra = append(extra, '/')
				extra = strconv.AppendInt(extra, f.Size, 10)
				extra = append(extra, "\r\n"...)
			}
		}
	}
	reply.Extra = extra
	rt.cfg.Compression.counted(req, &rep, reply.Status, reply.File.Len)
	fromMemory(&reply, f.Data)
	rt.enc.Encode(out, req, &reply)
}

// compressedETag tags a copy compressed on the fly: the file's tag with the
// coding added, weak because the bytes depend on the compressor's version.
// No ranges are served from it (see serveFile).
func compressedETag(dst []byte, f *OpenedFile, coding string) []byte {
	dst = append(dst, "W/"...)
	dst = protocol.AppendETag(dst, f.Size, f.MtimeNs, f.Ino)
	dst = append(dst[:len(dst)-1], '-')
	dst = append(dst, coding...)
	return append(dst, '"')
}

var varyAcceptEncoding = []protocol.Field{{Name: "Vary", Value: "Accept-Encoding"}}

// fromMemory turns a reply's file segment into a body from data, the
// file's bytes from the small-file cache (nil: the file is sent as it is).
func fromMemory(reply *protocol.Reply, data []byte) {
	if data == nil {
		return
	}
	reply.Body = data[reply.File.Off : reply.File.Off+reply.File.Len]
	reply.HasFile, reply.File = false, protocol.FileSegment{}
}

// redirect sends a directory asked for without its slash to the slash form,
// keeping the query.
func (rt *Router) redirect(req *protocol.Request, out *protocol.Batch, loc string) {
	extra := append(out.Scratch[:0], "Location: "...)
	extra = append(extra, loc...)
	rt.finishRedirect(req, out, extra, &protocol.Reply{Status: 301, Body: movedPermanently})
}

var movedPermanently = []byte("Moved Permanently\n")

// finishRedirect ends the Location line begun in extra with the request's
// query and sends reply with it. extra lives in out.Scratch, which Encode
// copies out of and the next handler reuses.
func (rt *Router) finishRedirect(req *protocol.Request, out *protocol.Batch, extra []byte, reply *protocol.Reply) {
	if len(req.Query) > 0 {
		extra = append(extra, '?')
		extra = append(extra, req.Query...)
	}
	reply.Extra = append(extra, "\r\n"...)
	reply.ContentType = textPlain
	rt.enc.Encode(out, req, reply)
	out.Scratch = reply.Extra[:0]
}

// serveClassicFile keeps the C server's behaviour: any regular file, 404
// for everything else, directories included; no ranges, no validators.
func (rt *Router) serveClassicFile(req *protocol.Request, out *protocol.Batch) {
	f, status, _ := rt.cfg.Files.Open(req.Path, Rules{Index: false, Dotfiles: rt.cfg.Dotfiles})
	if status != 0 {
		rt.fail(req, out, status)
		return
	}
	reply := protocol.Reply{Status: 200, HasFile: true, File: protocol.FileSegment{Fd: f.Fd, Off: 0, Len: f.Size}}
	fromMemory(&reply, f.Data)
	rt.enc.Encode(out, req, &reply)
}
