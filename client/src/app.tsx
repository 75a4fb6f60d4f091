import { Provider } from '@urql/solid';
import { Match, Show, Switch } from 'solid-js';
import { apiKey, forgetApiKey, keyRequired } from './auth.ts';
import { ConnectionBadge } from './components/connection-badge.tsx';
import { KeyPrompt } from './components/key-prompt.tsx';
import { SubmitForm } from './components/submit-form.tsx';
import { TaskList } from './components/task-list.tsx';
import { TaskView } from './components/task-view.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { DeadLetterPage } from './pages/dlq-page.tsx';
import { TasksPage } from './pages/tasks-page.tsx';
import { TenantsPage } from './pages/tenants-page.tsx';
import { createRecentTasks } from './primitives/create-recent-tasks.ts';
import { createViewer } from './primitives/create-viewer.ts';
import { currentPath, onLinkClick, taskIdOf } from './router.ts';
import type { AppClient } from './urql-client.ts';

function SubmitPage(props: { app: AppClient; canWrite: boolean }) {
  const recent = createRecentTasks({ limit: 25 });
  return (
    <div class="home">
      <Show when={props.canWrite} fallback={<p class="card muted">This key may read tasks but not submit them.</p>}>
        <SubmitForm onSubmitted={recent.add} />
      </Show>
      <TaskList tasks={recent.tasks} outputTails={recent.outputTails} standing={recent.standing} loading={recent.loading()} error={recent.error()} />
    </div>
  );
}

const NAV = [
  { href: '/', label: 'Submit', match: (path: string) => path === '/' },
  { href: '/dashboard', label: 'Dashboard', match: (path: string) => path === '/dashboard' },
  { href: '/tasks', label: 'Tasks', match: (path: string) => path.startsWith('/tasks') },
  { href: '/dlq', label: 'Dead letters', match: (path: string) => path === '/dlq' },
  { href: '/tenants', label: 'Tenants', match: (path: string) => path === '/tenants' },
];

function Shell(props: { app: AppClient }) {
  const viewer = createViewer();
  const canWrite = () => viewer.has('TASKS_WRITE');
  return (
    <>
      <header class="topbar">
        <a href="/" onClick={onLinkClick} class="brand">
          AsyncTaskFlow
        </a>
        <nav class="nav" aria-label="Pages">
          {NAV.map((item) => (
            <a href={item.href} onClick={onLinkClick} aria-current={item.match(currentPath()) ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
          <a href="/graphiql" target="_blank" rel="noopener">
            Explorer ↗
          </a>
        </nav>
        <div class="topbar-end">
          <Show when={apiKey()}>
            <button type="button" class="link" onClick={() => forgetApiKey()} title="Remove the API key kept in this browser">
              Forget key
            </button>
          </Show>
          <Show when={viewer.viewer().authenticationRequired && viewer.viewer().tenant}>
            <span class="muted small" title={viewer.viewer().scopes.join(', ')}>
              {viewer.viewer().tenant}
            </span>
          </Show>
          <ConnectionBadge state={props.app.connection} />
        </div>
      </header>
      <main>
        <Switch fallback={<SubmitPage app={props.app} canWrite={canWrite()} />}>
          <Match when={taskIdOf(currentPath())}>{(id) => <TaskView id={id()} canWrite={canWrite()} />}</Match>
          <Match when={currentPath() === '/tasks'}>
            <TasksPage canWrite={canWrite()} />
          </Match>
          <Match when={currentPath() === '/dashboard'}>
            <DashboardPage admin={viewer.isAdmin()} canRead={viewer.has('TASKS_READ')} />
          </Match>
          <Match when={currentPath() === '/dlq'}>
            <DeadLetterPage admin={viewer.isAdmin()} />
          </Match>
          <Match when={currentPath() === '/tenants'}>
            <TenantsPage admin={viewer.isAdmin()} />
          </Match>
        </Switch>
      </main>
    </>
  );
}

export function App(props: { app: AppClient }) {
  return (
    <Provider value={props.app.client}>
      <Show when={!keyRequired()} fallback={<KeyPrompt />}>
        {/* Keyed on the key: a new key starts every query and subscription afresh. */}
        <Show when={apiKey() ?? 'anonymous'} keyed>
          <Shell app={props.app} />
        </Show>
      </Show>
    </Provider>
  );
}
