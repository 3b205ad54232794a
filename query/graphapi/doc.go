// Package graphapi serves the Atlas graph and tags APIs over the Atlas
// stack language (query/stacklang) and the chart renderer (query/render):
//
//	GET /api/v1/graph?q=<expr>&s=&e=&step=&format=png|svg|json|csv&w=&h=&tz=&theme=&title=&ylabel=&no_legend=&palette=
//	GET /api/v1/tags[?q=<query>]         tag keys
//	GET /api/v1/tags/{key}[?q=<query>]   values of one key
//
// A graph request is parsed (times as Atlas writes them, see ParseTime),
// the expression parsed and evaluated on the step grid, and the styled
// series mapped onto a render.Graph. Bad parameters and expressions answer
// 400 with a JSON body naming the parameter, or the word and its position;
// limits 422; timeouts 503.
package graphapi
