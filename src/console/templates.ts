/**
 * Handlebars sources of the console's frame: the layout (skip link, header with the
 * navigation and who is signed in, main, footer), its styles on top of the pages' shared ones,
 * the labelled field with its error beside it, and the message page. Scripts: htmx only, from
 * this origin (the page CSP allows no inline script); every form also works without it.
 */

/** Wider than the link pages (registers are tables); the navigation wraps on a phone. */
export const CONSOLE_STYLES = `
.console main{max-width:72rem}
.console footer{max-width:72rem}
.site-bar{max-width:72rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;justify-content:space-between}
.site-bar .site-name{font-weight:700;color:#fff;text-decoration:none;font-size:1.05rem}
.site-nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
.site-nav a{display:inline-block;color:#fff;padding:.5rem .75rem;border-radius:6px;min-height:44px;line-height:1.75;text-decoration:none}
.site-nav a:hover{background:#084a8c;color:#fff}
.site-nav a[aria-current=page]{background:#fff;color:#0b3d6e;font-weight:700}
.site-user{font-size:.925rem}
.site-user a{color:#fff}
.site :focus-visible{outline:3px solid #fff;outline-offset:2px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}
.table-wrap{position:relative;overflow-x:auto;margin:1rem 0;border:1px solid #d0d7de;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:600;padding:.5rem .75rem;color:#424a53}
th,td{text-align:left;vertical-align:top;padding:.5rem .75rem;border-top:1px solid #d0d7de}
thead th{background:#f6f8fa;border-top:0;white-space:nowrap}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin:1rem 0;padding:.75rem 1rem;background:#f6f8fa;border:1px solid #d0d7de;border-radius:8px}
.filters label{margin:0 0 .25rem}
.filters>div{flex:1 1 10rem}
.filters button{width:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;background:#fff}
.card h2,.card h3{margin:.1rem 0 .5rem;font-size:1.05rem}
.inline-actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0}
.inline-actions>*{width:auto}
.pager{display:flex;gap:1rem;margin:1rem 0}
.htmx-request.htmx-indicator,.htmx-request .htmx-indicator{opacity:1}
.htmx-indicator{opacity:0}
.plan-group{border:1px solid #d0d7de;border-radius:8px;padding:0 1rem 1rem;margin:1.25rem 0}
.plan-group legend{font-size:1.1rem;padding:0 .35rem;margin:0}
@media (min-width:48rem){.plan-fields{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:0 1.5rem}}
`;

export const CONSOLE_LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="htmx-config" content='{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"selfRequestsOnly":true}'>
<link rel="icon" href="data:,">
<title>{{title}} · {{siteName}}</title>
<style>{{styles}}</style>
<script src="/console/assets/htmx.min.js" defer></script>
</head>
<body class="console">
<a class="skip" href="#main">Skip to the content</a>
<header class="site">
<div class="site-bar">
<a class="site-name" href="/console">{{siteName}} · AIMS console</a>
{{#if signedIn}}<p class="site-user">Signed in as {{person}}{{#if viaSession}} · <a href="/auth/session">Account and sign out</a>{{/if}}</p>{{/if}}
</div>
{{#if nav.length}}<nav class="site-nav site-bar" aria-label="Console">
<ul>{{#each nav}}<li><a href="{{href}}"{{#if current}} aria-current="page"{{/if}}>{{label}}</a></li>{{/each}}</ul>
</nav>{{/if}}
</header>
<main id="main" tabindex="-1">
{{{body}}}
</main>
<footer>
<p>Reference: <span class="hash">{{requestId}}</span></p>
</footer>
</body>
</html>
`;

/**
 * One labelled field with its hint and its error beside it (`aria-invalid`, `aria-describedby`).
 * Parameters: name, label, type (text, date, email, number, url, textarea, select), value,
 * error, hint, required, options ([{ value, label, selected }]) for a select, id (defaults to
 * the name with every character other than a letter, digit or dash made a dash).
 */
export const CONSOLE_FIELD = `<div class="field">
<label for="{{fieldId name id}}">{{label}}</label>
{{#if hint}}<p class="hint" id="{{fieldId name id}}-hint">{{hint}}</p>{{/if}}
<p class="field-error" id="{{fieldId name id}}-error"{{#unless error}} hidden{{/unless}}>{{error}}</p>
{{#if (eq type "textarea")}}<textarea id="{{fieldId name id}}" name="{{name}}" rows="4"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true"{{/if}} aria-describedby="{{#if hint}}{{fieldId name id}}-hint {{/if}}{{fieldId name id}}-error">{{value}}</textarea>
{{else if (eq type "select")}}<select id="{{fieldId name id}}" name="{{name}}"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true"{{/if}} aria-describedby="{{#if hint}}{{fieldId name id}}-hint {{/if}}{{fieldId name id}}-error">
{{#each options}}<option value="{{value}}"{{#if selected}} selected{{/if}}>{{label}}</option>
{{/each}}</select>
{{else}}<input type="{{#if type}}{{type}}{{else}}text{{/if}}" id="{{fieldId name id}}" name="{{name}}" value="{{value}}"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true"{{/if}} aria-describedby="{{#if hint}}{{fieldId name id}}-hint {{/if}}{{fieldId name id}}-error">
{{/if}}</div>`;

/** A heading, paragraphs and an optional link: refusals, errors and confirmations. */
export const CONSOLE_MESSAGE = `<h1>{{heading}}</h1>
{{#each paragraphs}}<p>{{this}}</p>{{/each}}
{{#if link}}<p><a href="{{link.url}}">{{link.label}}</a></p>{{/if}}`;

/** Why a form was refused, above it: the count of fields to change (each says why beside it) and refusals of the whole form. Parameter: heading. */
export const FORM_REFUSED = `{{#if refused}}<div class="notice notice-error" role="alert" id="form-refused"><h2>{{heading}}</h2>{{#if fieldErrorCount}}<p>{{fieldErrorCount}} field(s) need a change: each says why beside it.</p>{{/if}}{{#if formErrors.length}}<ul>{{#each formErrors}}<li>{{this}}</li>{{/each}}</ul>{{/if}}</div>{{/if}}`;
