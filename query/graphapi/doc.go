// Package graphapi serves the Atlas graph and tags APIs over the Atlas
// stack language (query/stacklang) and the chart renderer (query/render):
//
//	GET /api/v1/graph?q=<expr>&s=&e=&step=&format=png|svg|json|std.json|csv|txt&w=&h=&tz=&theme=&title=
//	    &ylabel[.N]=&l[.N]=&u[.N]=&scale[.N]=linear|log&stack=&no_legend=&no_legend_stats=&palette=
//	GET /api/v1/tags[?q=<query>&s=&e=&limit=&offset=]         tag keys
//	GET /api/v1/tags/{key}[?q=<query>&s=&e=&limit=&offset=]   values of one key
//
// Tags answer a sorted JSON array of strings, one page at a time: at most
// limit (default DefaultTagsLimit, at most MaxTagsLimit) entries strictly
// greater than offset. The last entry of a page is the next page's offset,
// as in Atlas, and a Link header (rel="next") carries the next page's URL
// while results remain, so paging returns every entry exactly once.
//
// A graph request is parsed (times as Atlas writes them, see ParseTime),
// the expression parsed and evaluated on the step grid, and the styled
// series mapped onto a render.Graph. Bad parameters and expressions answer
// 400 with a JSON body naming the parameter, or the word and its position;
// limits 422; timeouts 503.
package graphapi
