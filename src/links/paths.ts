/**
 * Where each kind of signed link lands in the API. Shared by the mail activity (which builds
 * links) and the API routes (which serve them). Workflow-safe.
 */
export const linkPaths = {
  'task.view': '/t',
  'approval.decide': '/a',
  'tasks.mine': '/me',
  'link.renew': '/renew',
} as const;
