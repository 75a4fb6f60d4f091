import { Provider } from '@urql/solid';
import { Match, Switch } from 'solid-js';
import { ConnectionBadge } from './components/connection-badge.tsx';
import { SubmitForm } from './components/submit-form.tsx';
import { TaskList } from './components/task-list.tsx';
import { TaskView } from './components/task-view.tsx';
import { createRecentTasks } from './primitives/create-recent-tasks.ts';
import { currentPath, onLinkClick, taskIdOf } from './router.ts';
import type { AppClient } from './urql-client.ts';

function HomePage(props: { app: AppClient }) {
  const recent = createRecentTasks({ limit: 25, connectionEpoch: props.app.connectionEpoch });
  return (
    <div class="home">
      <SubmitForm onSubmitted={recent.add} />
      <TaskList tasks={recent.tasks} loading={recent.loading()} error={recent.error()} />
    </div>
  );
}

export function App(props: { app: AppClient }) {
  return (
    <Provider value={props.app.client}>
      <header class="topbar">
        <a href="/" onClick={onLinkClick} class="brand">
          AsyncTaskFlow
        </a>
        <ConnectionBadge state={props.app.connection} />
      </header>
      <main>
        <Switch fallback={<HomePage app={props.app} />}>
          <Match when={taskIdOf(currentPath())}>{(id) => <TaskView id={id()} />}</Match>
        </Switch>
      </main>
    </Provider>
  );
}
