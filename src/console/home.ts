/**
 * The console's home page (`/console`): the signed-in person's open work, as "my open tasks"
 * lists it for a link, each with a freshly signed link to its page.
 */
import type { FastifyPluginCallback } from 'fastify';
import { openWorkOf } from '../api/pages/my-tasks.js';
import type { PageContext } from '../api/pages/common.js';
import { consoleGet } from './guard.js';
import { consoleHandler } from './handler.js';
import { consoleView, principalName, sendConsole } from './render.js';

const HOME = consoleView(`<h1>Home</h1>
<p>Hello {{name}}.</p>
<section aria-labelledby="my-work">
<h2 id="my-work">My open work</h2>
{{#if work.items.length}}
<p>{{work.countText}}, overdue first, then by due date.</p>
<ul class="work">
{{#each work.items}}<li>
<a href="{{url}}">{{title}}</a>
<span class="meta">{{kindLabel}} · due <time datetime="{{dueAt}}">{{dueText}}</time>{{#if process}} · {{process}}{{/if}}</span>
{{#if overdue}}<span class="badge badge-overdue">Overdue</span>{{/if}}
</li>
{{/each}}
</ul>
{{else}}
<div class="notice notice-done" role="status"><p>Nothing is waiting for you right now.</p></div>
{{/if}}
</section>`);

export function homePages(ctx: PageContext): FastifyPluginCallback {
  return (app, _options, done) => {
    app.get('/', consoleGet(null), consoleHandler(ctx, async (request, reply) => {
      const principal = request.principal;
      const work = principal?.kind === 'person' ? await openWorkOf(ctx, principal.id) : { items: [], countText: '' };
      return sendConsole(request, reply, HOME, { name: principalName(request), work }, { title: 'Home', section: 'home' });
    }));
    done();
  };
}
