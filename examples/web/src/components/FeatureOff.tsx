/** FeatureOff says plainly that the server turned a feature off. */
export function FeatureOff({ children }: { children: React.ReactNode }) {
  return (
    <p className="feature-off" role="note">
      {children}
    </p>
  );
}
