import { render } from 'solid-js/web';
import { App } from './app.tsx';
import './styles.css';
import { createAppClient } from './urql-client.ts';

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');
// Created once, outside JSX: a prop expression is re-run on every read of the prop.
const app = createAppClient();
render(() => <App app={app} />, root);
