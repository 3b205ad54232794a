package ingest

import "net/http"

func (h *Handler) serveOTLP(w http.ResponseWriter, hr *http.Request, r *request) int { return 501 }
