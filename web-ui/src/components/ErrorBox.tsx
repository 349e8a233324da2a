import { Problem } from "../api/client";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof Problem ? error.detail : String(error);
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}
