// Maps a run's artifact_uri to the server's artifact proxy. With --serve-artifacts, MLflow gives
// runs an artifact_uri of the form mlflow-artifacts:/<experiment_id>/<run_id>/artifacts (or
// mlflow-artifacts://host:port/... when the proxy lives elsewhere), and serves
// mlflow-artifacts:/<path> at <server>/api/2.0/mlflow-artifacts/artifacts/<path>.

/** Artifact paths are relative and stay inside the run's root. */
export function artifactPathSegments(artifactPath: string): string[] {
  const segments = artifactPath.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.includes('..') || artifactPath.startsWith('/')) {
    throw new Error(`artifact path ${JSON.stringify(artifactPath)} must be relative, without '..'`);
  }
  return segments;
}

/** Proxy URL of `artifactPath` under a run's artifact root; throws where the root is not proxied. */
export function artifactProxyUrl(trackingUri: string, artifactUri: string, artifactPath: string): string {
  const match = /^mlflow-artifacts:(?:\/\/([^/]+))?(\/.*)?$/.exec(artifactUri);
  if (!match) {
    throw new Error(
      `artifact root ${artifactUri} is not served by the MLflow artifact proxy; ` +
        'medsynth uploads through the tracking server (mlflow server --serve-artifacts)',
    );
  }
  const base = new URL(trackingUri);
  const origin = match[1] ? `${base.protocol}//${match[1]}` : trackingUri.replace(/\/+$/, '');
  const root = (match[2] ?? '').split('/').filter(Boolean);
  const path = [...root, ...artifactPathSegments(artifactPath)].map(encodeURIComponent).join('/');
  return `${origin}/api/2.0/mlflow-artifacts/artifacts/${path}`;
}
