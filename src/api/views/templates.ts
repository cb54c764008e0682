/**
 * Handlebars sources of the pages people open from e-mailed links. Values are HTML-escaped
 * by default; the only triple-stash is the layout's `body`, which is itself a rendered
 * template. No scripts: every page works as plain HTML forms, within the page CSP (inline
 * styles allowed, forms post only to this origin).
 */

/** Styles shared by every page: one column, large touch targets, visible focus, AA contrast. */
export const STYLES = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#f6f8fa}
.skip{position:absolute;left:-10000px;top:0}
.skip:focus{left:1rem;top:1rem;z-index:10;background:#fff;color:#0b5cad;padding:.5rem 1rem}
.site{background:#0b3d6e;color:#fff}
.site p{max-width:42rem;margin:0 auto;padding:.75rem 1rem;font-weight:600}
main{display:block;max-width:42rem;margin:0 auto;padding:1rem 1rem 2.5rem;background:#fff;min-height:60vh}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 .75rem}
h2{font-size:1.2rem;line-height:1.3;margin:2rem 0 .5rem}
p{margin:.5rem 0}
a{color:#0b5cad;text-underline-offset:.15em}
a:hover{color:#084a8c}
:focus-visible{outline:3px solid #1f2328;outline-offset:2px}
.status{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.25rem 0 1rem}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-size:.875rem;font-weight:600;border:1px solid currentColor}
.badge-open{background:#ddf4ff;color:#0a3069}
.badge-overdue{background:#ffebe9;color:#82071e}
.badge-done{background:#dafbe1;color:#0a4a1c}
.badge-closed{background:#eaeef2;color:#24292f}
.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.35rem 1rem;margin:1rem 0}
.facts dt{font-weight:600;color:#424a53}
.facts dd{margin:0;overflow-wrap:anywhere}
.prose{white-space:pre-line;overflow-wrap:anywhere}
.notice{border-left:6px solid #0b5cad;background:#ddf4ff;padding:.75rem 1rem;margin:1rem 0}
.notice-warn{border-color:#9a6700;background:#fff8c5}
.notice-error{border-color:#b3261e;background:#ffebe9}
.notice-done{border-color:#1a7f37;background:#dafbe1}
.notice h2{margin:0 0 .25rem;font-size:1.05rem}
.notice ul{margin:.25rem 0;padding-left:1.25rem}
.notice a{color:#82071e;font-weight:600}
form{margin:0}
label,legend{display:block;font-weight:600;margin:1.25rem 0 .25rem;padding:0}
fieldset{border:0;margin:0;padding:0;min-width:0}
.hint{color:#57606a;font-size:.925rem;margin:0 0 .4rem}
.field-error{color:#b3261e;font-weight:600;margin:.25rem 0}
input[type=text],input[type=url],input[type=date],input[type=email],select,textarea{display:block;width:100%;font:inherit;color:inherit;background:#fff;padding:.65rem .75rem;border:2px solid #6e7781;border-radius:6px}
input[type=url]+input[type=url]{margin-top:.5rem}
textarea{min-height:8rem;resize:vertical}
[aria-invalid=true]{border-color:#b3261e !important}
.option{display:flex;gap:.6rem;align-items:center;margin:.35rem 0;font-weight:400}
.option input{width:1.35rem;height:1.35rem;margin:0;accent-color:#0b5cad;flex:none}
.option label{margin:0;font-weight:400}
.links input{margin-bottom:.5rem}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1.5rem}
button,.button{display:block;width:100%;min-height:48px;font:inherit;font-weight:600;text-align:center;text-decoration:none;padding:.7rem 1.2rem;border-radius:6px;border:2px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button:hover,.button:hover{background:#084a8c;border-color:#084a8c;color:#fff}
.button-secondary{background:#fff;color:#0b5cad}
.button-secondary:hover{background:#ddf4ff;color:#084a8c}
.button-danger{background:#fff;color:#a40e26;border-color:#a40e26}
.button-danger:hover{background:#ffebe9;color:#82071e;border-color:#82071e}
.history,.work{list-style:none;margin:.5rem 0;padding:0}
.history li{border-top:1px solid #d0d7de;padding:.5rem 0}
.history time,.meta{display:block;color:#57606a;font-size:.875rem}
.work li{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}
.work a{font-weight:600;font-size:1.05rem}
.decisions{list-style:none;margin:.5rem 0;padding:0}
.decisions li{border-top:1px solid #d0d7de;padding:.5rem 0}
.void{color:#57606a}
.hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;overflow-wrap:anywhere}
.entered{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem}
.small{color:#57606a;font-size:.875rem}
.plain{list-style:none;margin:0;padding:0}
.plain li+li{margin-top:.35rem}
.ref{font-weight:600}
.visually-hidden{position:absolute !important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
footer{max-width:42rem;margin:0 auto;padding:1rem;color:#57606a;font-size:.875rem}
footer a{color:#0b5cad}
@media (min-width:40rem){.actions{flex-direction:row}.actions>*{flex:1}}
`;

export const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{{pageTitle}} · {{siteName}}</title>
<style>{{styles}}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site"><p>{{siteName}}</p></header>
<main id="main" tabindex="-1">
{{{body}}}
</main>
<footer>
{{#if myTasksUrl}}<p><a href="{{myTasksUrl}}">All your open tasks</a></p>{{/if}}
<p>Reference: <span class="hash">{{requestId}}</span></p>
</footer>
</body>
</html>
`;

/** Error summary for a form: a list of links to the failing fields. */
const ERROR_SUMMARY = `{{#if errorSummary.length}}
<div class="notice notice-error" role="alert" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">Please check your answer</h2>
<ul>{{#each errorSummary}}<li><a href="#{{id}}">{{text}}</a></li>{{/each}}</ul>
</div>
{{/if}}`;

const NOTICE = `{{#if notice}}<div class="notice notice-{{notice.kind}}" role="{{#if (eq notice.kind "error")}}alert{{else}}status{{/if}}">
{{#if notice.title}}<h2>{{notice.title}}</h2>{{/if}}
{{#each notice.paragraphs}}<p>{{this}}</p>{{/each}}
</div>{{/if}}`;

/** One form field: a textarea, a single-line input, a select, a radio group or a list of links. */
export const FIELD = `{{#if (eq kind "textarea")}}
<label for="{{id}}">{{label}}</label>
{{#if hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/if}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
<textarea id="{{id}}" name="{{name}}" rows="6"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true"{{/if}}{{#if describedBy}} aria-describedby="{{describedBy}}"{{/if}}>{{value}}</textarea>
{{else if (eq kind "input")}}
<label for="{{id}}">{{label}}</label>
{{#if hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/if}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
<input type="{{type}}" id="{{id}}" name="{{name}}" value="{{value}}"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true"{{/if}}{{#if describedBy}} aria-describedby="{{describedBy}}"{{/if}}>
{{else if (eq kind "select")}}
<label for="{{id}}">{{label}}</label>
{{#if hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/if}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
<select id="{{id}}" name="{{name}}"{{#if error}} aria-invalid="true"{{/if}}{{#if describedBy}} aria-describedby="{{describedBy}}"{{/if}}>
{{#each options}}<option value="{{value}}"{{#if checked}} selected{{/if}}>{{label}}</option>
{{/each}}
</select>
{{else if (eq kind "radios")}}
<fieldset id="{{id}}"{{#if describedBy}} aria-describedby="{{describedBy}}"{{/if}}>
<legend>{{label}}</legend>
{{#if hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/if}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
{{#each options}}<div class="option"><input type="radio" id="{{id}}" name="{{../name}}" value="{{value}}"{{#if checked}} checked{{/if}}{{#if ../required}} required{{/if}}><label for="{{id}}">{{label}}</label></div>
{{/each}}
</fieldset>
{{else if (eq kind "links")}}
<fieldset id="{{id}}" class="links"{{#if describedBy}} aria-describedby="{{describedBy}}"{{/if}}>
<legend>{{label}}</legend>
{{#if hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/if}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
{{#each inputs}}
{{#if error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/if}}
<label class="visually-hidden" for="{{id}}">{{label}}</label>
<input type="url" id="{{id}}" name="{{../name}}" value="{{value}}" inputmode="url" autocomplete="off" placeholder="https://"{{#if required}} required{{/if}}{{#if error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/if}}>
{{/each}}
</fieldset>
{{/if}}`;

const HISTORY = `{{#if history.length}}
<h2 id="history">Recent history</h2>
<ol class="history" aria-labelledby="history">
{{#each history}}<li><time datetime="{{at}}">{{atText}}</time>{{detail}}{{#if byName}} <span class="small">({{byName}})</span>{{/if}}</li>
{{/each}}
</ol>
{{/if}}`;

const CLAUSES = `{{#if clauses.length}}<dt>ISO/IEC 42001</dt><dd><ul class="plain">{{#each clauses}}<li><span class="ref">{{ref}}</span>{{#if title}} {{title}}{{/if}}</li>{{/each}}</ul></dd>{{/if}}`;

export const TASK_PAGE = `<h1>{{title}}</h1>
<p class="status"><span class="badge badge-{{stateClass}}">{{stateLabel}}</span>
<span>Due <time datetime="{{dueAt}}">{{dueText}}</time></span>
{{#if overdue}}<span class="badge badge-overdue">Overdue</span>{{/if}}</p>
${NOTICE}
<dl class="facts">
<dt>Assigned to</dt><dd>{{assigneeName}}</dd>
{{#if delegateName}}<dt>Delegated to</dt><dd>{{delegateName}}</dd>{{/if}}
${CLAUSES}
<dt>Process</dt><dd>{{process}}</dd>
{{#if aiSystem}}<dt>AI system</dt><dd>{{aiSystem}}</dd>{{/if}}
<dt>Asked by</dt><dd>{{requestedByName}}</dd>
</dl>
<h2>What is needed and why</h2>
{{#each instructions}}<p class="prose">{{this}}</p>{{/each}}
{{#if completion}}
<h2>The answer given</h2>
<p>Completed by {{completion.byName}} on <time datetime="{{completion.at}}">{{completion.atText}}</time>.</p>
<dl class="facts">
{{#each completion.entries}}<dt>{{label}}</dt><dd>{{#if links}}<ul class="plain">{{#each links}}<li><a href="{{this}}" rel="noopener noreferrer">{{this}}</a></li>{{/each}}</ul>{{else}}<span class="prose">{{value}}</span>{{/if}}</dd>
{{/each}}
</dl>
{{/if}}
{{#if form}}
<h2 id="your-answer">Your answer</h2>
${ERROR_SUMMARY.replace(/errorSummary/g, 'form.errorSummary')}
<form method="post" action="{{form.action}}" aria-labelledby="your-answer">
<input type="hidden" name="csrf" value="{{form.csrf}}">
{{#each form.fields}}{{> field}}{{/each}}
<div class="actions"><button type="submit">Submit</button></div>
</form>
{{else if readOnly}}
<div class="notice notice-warn" role="note"><h2>You can read this task</h2>{{#each readOnly}}<p>{{this}}</p>{{/each}}</div>
{{/if}}
${HISTORY}`;

export const APPROVAL_PAGE = `<h1>{{title}}</h1>
<p class="status"><span class="badge badge-{{stateClass}}">{{stateLabel}}</span>
<span>Decide by <time datetime="{{dueAt}}">{{dueText}}</time></span>
{{#if overdue}}<span class="badge badge-overdue">Overdue</span>{{/if}}</p>
${NOTICE}
<dl class="facts">
<dt>What</dt><dd>{{kindLabel}}</dd>
<dt>Prepared by</dt><dd>{{preparerName}}</dd>
<dt>Version</dt><dd>{{version}}</dd>
<dt>Rule</dt><dd>{{ruleText}}</dd>
<dt>Progress</dt><dd>{{progressText}}</dd>
{{#if pendingNames}}<dt>Waiting for</dt><dd>{{pendingNames}}</dd>{{/if}}
${CLAUSES}
</dl>
<h2>Summary</h2>
{{#each summary}}<p class="prose">{{this}}</p>{{/each}}
{{#if contentUrl}}<p><a href="{{contentUrl}}" rel="noopener noreferrer">Read the full content</a> <span class="small">(opens {{contentHost}})</span></p>{{/if}}
<p class="small">Content fingerprint (SHA-256) of the version you are deciding on:<br><span class="hash">{{contentHash}}</span></p>
<h2 id="decisions">Decisions</h2>
{{#if decisions.length}}
<ul class="decisions" aria-labelledby="decisions">
{{#each decisions}}<li{{#if voided}} class="void"{{/if}}><strong>{{byName}}</strong> {{verb}}{{#if voided}} an earlier version (no longer counts){{/if}} <time class="meta" datetime="{{at}}">{{atText}}</time>{{#if comment}}<span class="prose">“{{comment}}”</span>{{/if}}</li>
{{/each}}
</ul>
{{else}}<p>Nobody has decided yet.</p>{{/if}}
{{#if form}}
<h2 id="your-decision">Your decision</h2>
${ERROR_SUMMARY.replace(/errorSummary/g, 'form.errorSummary')}
<form method="post" action="{{form.action}}" aria-labelledby="your-decision">
<input type="hidden" name="csrf" value="{{form.csrf}}">
<input type="hidden" name="contentHash" value="{{contentHash}}">
<label for="comment">Comment</label>
<p class="hint" id="comment-hint">Optional when you approve; required when you reject (say what needs to change).</p>
{{#if form.commentError}}<p class="field-error" id="comment-error">{{form.commentError}}</p>{{/if}}
<textarea id="comment" name="comment" rows="5" aria-describedby="comment-hint{{#if form.commentError}} comment-error{{/if}}"{{#if form.commentError}} aria-invalid="true"{{/if}}>{{form.comment}}</textarea>
<div class="actions">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="reject" class="button-danger">Reject</button>
</div>
</form>
{{else if readOnly}}
<div class="notice notice-warn" role="note"><h2>You can read this approval</h2>{{#each readOnly}}<p>{{this}}</p>{{/each}}</div>
{{/if}}
${HISTORY}`;

/** A person's open tasks and approvals (`items`), each with its link, kind, due date and process. */
export const WORK_LIST = `<ul class="work">
{{#each items}}<li>
<a href="{{url}}">{{title}}</a>
<span class="meta">{{kindLabel}} · due <time datetime="{{dueAt}}">{{dueText}}</time>{{#if process}} · {{process}}{{/if}}</span>
{{#if overdue}}<span class="badge badge-overdue">Overdue</span>{{/if}}
</li>
{{/each}}
</ul>`;

export const MY_TASKS_PAGE = `<h1>Your open tasks</h1>
<p>{{greeting}}</p>
{{#if items.length}}
<p>{{countText}}, overdue first, then by due date.</p>
${WORK_LIST}
{{else}}
<div class="notice notice-done" role="status"><p>Nothing is waiting for you right now.</p></div>
{{/if}}
<p class="small">Newly assigned work can take a few seconds to appear here.</p>`;

/** A page with a message: results, refusals and problems, with an optional button. */
export const MESSAGE_PAGE = `<h1>{{heading}}</h1>
{{#each paragraphs}}<p>{{this}}</p>{{/each}}
{{#if entered.length}}
<h2>What you entered</h2>
<p>It was not saved. Copy it before you leave this page.</p>
<dl class="entered">{{#each entered}}<dt>{{label}}</dt><dd class="prose">{{value}}</dd>{{/each}}</dl>
{{/if}}
{{#if form}}
<form method="post" action="{{form.action}}">
<input type="hidden" name="csrf" value="{{form.csrf}}">
{{#each form.hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/each}}
<div class="actions"><button type="submit">{{form.button}}</button></div>
</form>
{{/if}}
{{#if link}}<p class="actions"><a class="button{{#if link.secondary}} button-secondary{{/if}}" href="{{link.url}}">{{link.label}}</a></p>{{/if}}`;

/** The public "report a concern" form (Annex A.3.3); no link token, so it carries a form token. */
export const CONCERN_PAGE = `<h1>Report a concern</h1>
<p>Tell us about anything in how {{organizationName}} develops, provides or uses AI systems that worries you: a harmful or unfair result, a misuse, a missing safeguard, a broken promise. The AIMS manager reviews every report.</p>
<div class="notice" role="note"><p><strong>Your name and e-mail address are optional.</strong> Leave them empty to stay anonymous. With an e-mail address we can tell you if we do not take your report further, and why.</p></div>
${ERROR_SUMMARY}
<form method="post" action="{{action}}" aria-labelledby="concern-form-title">
<h2 id="concern-form-title" class="visually-hidden">Your report</h2>
<input type="hidden" name="csrf" value="{{csrf}}">
{{#each fields}}{{> field}}{{/each}}
<div class="actions"><button type="submit">Send the report</button></div>
</form>`;
