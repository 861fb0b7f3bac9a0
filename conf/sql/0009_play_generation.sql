-- Play tokens follow their video: a token signs the video's token
-- generation, which moves on whenever the video becomes PRIVATE (so a
-- token minted in an earlier PRIVATE spell stops working) and when its
-- account is disabled (the command line does that).  A trigger, so every
-- path that changes visibility (the module, the workers, SQL by hand)
-- moves it.  Runs in one transaction with its schema_migrations row.

CREATE FUNCTION videos_token_gen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.visibility = 'PRIVATE' AND OLD.visibility <> 'PRIVATE' THEN
        NEW.token_gen := OLD.token_gen + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER videos_token_gen BEFORE UPDATE OF visibility ON videos
    FOR EACH ROW EXECUTE FUNCTION videos_token_gen();
