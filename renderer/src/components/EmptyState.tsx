export function EmptyState({ message }: { message: string }) {
  return (
    <div className="empty-state" role="status">
      <p>{message}</p>
    </div>
  )
}

export function PageHeader({ title, intro }: { title: string; intro: string }) {
  return (
    <header className="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      <p className="muted">{intro}</p>
    </header>
  )
}
