package web

import (
	"io/fs"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/templates"
)

// assetFiles are the embedded scripts pages load. They are few and small, so each is
// read once; the ETag is the build's, which changes whenever the binary does.
var assetFiles = templates.Assets()

// asset serves one embedded script. The name is a single path element, so nothing
// outside the assets directory can be named.
func (s *Server) asset(c *gin.Context) {
	name := c.Param("name")
	if name != path.Base(name) || path.Ext(name) != ".js" {
		s.noRoute(c)
		return
	}
	b, err := fs.ReadFile(assetFiles, name)
	if err != nil {
		s.noRoute(c)
		return
	}
	// Scripts change only with the binary; an hour of caching spares repeat page
	// loads without keeping an old script for long after an upgrade.
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}
